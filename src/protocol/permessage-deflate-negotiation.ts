import { formatExtensionHeader, parseExtensionHeader, type ExtensionElement, type ExtensionParam } from './extension-header.js'

/**
 * permessage-deflate negotiation (RFC 7692 §5, §7.1), for both roles, as pure functions over
 * header text. The server picks the first offer it can honour and declines the rest (a
 * declined or malformed offer never fails the handshake: the connection goes on
 * uncompressed). The client builds one offer and fails its handshake on any response it did
 * not ask for.
 */

/** RFC 7692 §7: the extension's registered name. */
export const PERMESSAGE_DEFLATE = 'permessage-deflate'

/** RFC 7692 §7.1.2.1: window bits range from 8 (256-byte window) to 15 (32 KiB). */
export const MIN_WINDOW_BITS = 8
export const MAX_WINDOW_BITS = 15

/**
 * What both ends agreed, in RFC 7692's terms (server = the endpoint that accepted the
 * upgrade). A window of 15 bits is what applies when the parameter was not negotiated.
 */
export interface PerMessageDeflateParams {
  /** §7.1.1.1: the server resets its compressor after every message. */
  serverNoContextTakeover: boolean
  /** §7.1.1.2: the client resets its compressor after every message. */
  clientNoContextTakeover: boolean
  /** §7.1.2.1: base-2 log of the server compressor's LZ77 window, 8..15. */
  serverMaxWindowBits: number
  /** §7.1.2.2: base-2 log of the client compressor's LZ77 window, 8..15. */
  clientMaxWindowBits: number
}

/**
 * The same agreement seen from one endpoint: how it compresses what it sends and what it must
 * be ready to decompress.
 */
export interface DeflateDirections {
  /** Our compressor may refer to earlier messages (no `*_no_context_takeover` for our side). */
  sendContextTakeover: boolean
  /** Our compressor's window bits (8..15). */
  sendWindowBits: number
  /** The peer's compressor may refer to earlier messages: we must keep its history. */
  receiveContextTakeover: boolean
  /** The peer's compressor's window bits (8..15): how much history we must keep. */
  receiveWindowBits: number
}

/** Maps the agreement onto `role`'s sending and receiving sides. */
export function deflateDirections (params: PerMessageDeflateParams, role: 'server' | 'client'): DeflateDirections {
  const server = role === 'server'
  return {
    sendContextTakeover: !(server ? params.serverNoContextTakeover : params.clientNoContextTakeover),
    sendWindowBits: server ? params.serverMaxWindowBits : params.clientMaxWindowBits,
    receiveContextTakeover: !(server ? params.clientNoContextTakeover : params.serverNoContextTakeover),
    receiveWindowBits: server ? params.clientMaxWindowBits : params.serverMaxWindowBits
  }
}

/**
 * Our side's wishes, in the names of the `perMessageDeflate` option (already validated).
 * The same shape drives the server's answer and the client's offer.
 */
export interface PerMessageDeflateConfig {
  /** Never use context takeover when the server compresses. */
  serverNoContextTakeover: boolean
  /** Never use context takeover when the client compresses. */
  clientNoContextTakeover: boolean
  /** Largest window the server's compressor may use, 8..15. */
  serverMaxWindowBits: number
  /** Largest window the client's compressor may use, 8..15. */
  clientMaxWindowBits: number
}

/** The config that asks for nothing: context takeover both ways, 32 KiB windows. */
export const DEFAULT_DEFLATE_CONFIG: Readonly<PerMessageDeflateConfig> = Object.freeze({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: MAX_WINDOW_BITS,
  clientMaxWindowBits: MAX_WINDOW_BITS
})

/** A server's acceptance: the parameters in force and the response header value. */
export interface DeflateAcceptance {
  params: PerMessageDeflateParams
  /** The `Sec-WebSocket-Extensions` value of the 101 response. */
  header: string
}

const SERVER_NO_CONTEXT_TAKEOVER = 'server_no_context_takeover'
const CLIENT_NO_CONTEXT_TAKEOVER = 'client_no_context_takeover'
const SERVER_MAX_WINDOW_BITS = 'server_max_window_bits'
const CLIENT_MAX_WINDOW_BITS = 'client_max_window_bits'

/**
 * RFC 7692 §7.1.2.1: "a decimal integer value without leading zeros between 8 to 15,
 * inclusive". Returns the number, or undefined for anything else.
 */
function windowBitsValue (value: string | true): number | undefined {
  if (value === true) return undefined
  switch (value) {
    case '8': return 8
    case '9': return 9
    case '10': return 10
    case '11': return 11
    case '12': return 12
    case '13': return 13
    case '14': return 14
    case '15': return 15
    default: return undefined
  }
}

/** The four parameters of one element, each checked for its grammar; or why not. */
interface ParsedParams {
  serverNoContextTakeover: boolean
  clientNoContextTakeover: boolean
  /** undefined: absent. */
  serverMaxWindowBits: number | undefined
  /** undefined: absent; true: present without a value (only valid in an offer). */
  clientMaxWindowBits: number | true | undefined
}

/**
 * RFC 7692 §7.1: an element with an unknown parameter, a parameter given twice, or an invalid
 * value is declined (offer) or fails the connection (response). Returns the parameters or a
 * reason that names the culprit.
 */
function readParams (params: readonly ExtensionParam[], isOffer: boolean): ParsedParams | string {
  const parsed: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined
  }
  const seen = new Set<string>()
  for (const { name, value } of params) {
    // §7.1: "multiple extension parameters with the same name".
    if (seen.has(name)) return `${name} is given more than once`
    seen.add(name)
    switch (name) {
      case SERVER_NO_CONTEXT_TAKEOVER:
      case CLIENT_NO_CONTEXT_TAKEOVER:
        // §7.1.1.1, §7.1.1.2: these parameters have no value.
        if (value !== true) return `${name} must not have a value`
        if (name === SERVER_NO_CONTEXT_TAKEOVER) parsed.serverNoContextTakeover = true
        else parsed.clientNoContextTakeover = true
        break
      case SERVER_MAX_WINDOW_BITS: {
        // §7.1.2.1: always with a value, 8..15.
        const bits = windowBitsValue(value)
        if (bits === undefined) return `${name} must be an integer from 8 to 15`
        parsed.serverMaxWindowBits = bits
        break
      }
      case CLIENT_MAX_WINDOW_BITS: {
        // §7.1.2.2: an offer may give it without a value ("I support it"); a response may not.
        if (value === true && isOffer) {
          parsed.clientMaxWindowBits = true
          break
        }
        const bits = windowBitsValue(value)
        if (bits === undefined) return `${name} must be an integer from 8 to 15`
        parsed.clientMaxWindowBits = bits
        break
      }
      default:
        return `unknown parameter ${name}`
    }
  }
  return parsed
}

/**
 * Server side (RFC 7692 §5.1, §7.1): reads the client's `Sec-WebSocket-Extensions` (several
 * header lines joined with commas, or undefined) and accepts the first permessage-deflate offer
 * that `config` can honour. Returns null to decline every offer: the upgrade then goes on
 * without compression and without a `Sec-WebSocket-Extensions` response header. Never throws;
 * linear in the header's length.
 */
export function negotiatePerMessageDeflate (
  header: string | undefined,
  config: Readonly<PerMessageDeflateConfig> = DEFAULT_DEFLATE_CONFIG
): DeflateAcceptance | null {
  if (header === undefined) return null
  for (const element of parseExtensionHeader(header)) {
    if (element.name !== PERMESSAGE_DEFLATE || element.error !== undefined) continue
    const offer = readParams(element.params, true)
    if (typeof offer === 'string') continue
    const accepted = acceptOffer(offer, config)
    if (accepted !== null) return accepted
  }
  return null
}

/** One well-formed offer against our config: the answer, or null when we cannot honour it. */
function acceptOffer (offer: ParsedParams, config: Readonly<PerMessageDeflateConfig>): DeflateAcceptance | null {
  const response: ExtensionParam[] = []
  // §7.1.1.1: a server accepting an offer with server_no_context_takeover MUST answer with it;
  // it MAY add it unasked. We always can: one-shot compression is what we do anyway.
  const serverNoContextTakeover = offer.serverNoContextTakeover || config.serverNoContextTakeover
  if (serverNoContextTakeover) response.push({ name: SERVER_NO_CONTEXT_TAKEOVER, value: true })
  // §7.1.1.2: the server MAY ask the client not to use context takeover, asked or not.
  const clientNoContextTakeover = offer.clientNoContextTakeover || config.clientNoContextTakeover
  if (clientNoContextTakeover) response.push({ name: CLIENT_NO_CONTEXT_TAKEOVER, value: true })

  // §7.1.2.1: an offered server_max_window_bits must be answered with the same or a smaller
  // value; unoffered, the server MAY still announce a smaller window of its own.
  const serverMaxWindowBits = Math.min(offer.serverMaxWindowBits ?? MAX_WINDOW_BITS, config.serverMaxWindowBits)
  if (offer.serverMaxWindowBits !== undefined || serverMaxWindowBits < MAX_WINDOW_BITS) {
    response.push({ name: SERVER_MAX_WINDOW_BITS, value: String(serverMaxWindowBits) })
  }

  // §7.1.2.2: the server may limit the client's window only if the client offered the
  // parameter. A client that did not offer it may use 32 KiB, which breaks a smaller limit of
  // ours: such an offer is declined rather than accepted with a limit we cannot impose.
  let clientMaxWindowBits: number
  if (offer.clientMaxWindowBits === undefined) {
    if (config.clientMaxWindowBits < MAX_WINDOW_BITS) return null
    clientMaxWindowBits = MAX_WINDOW_BITS
  } else {
    // A value in the offer is the client's promise to stay within it (§7.1.2.2).
    const promised = offer.clientMaxWindowBits === true ? MAX_WINDOW_BITS : offer.clientMaxWindowBits
    clientMaxWindowBits = Math.min(promised, config.clientMaxWindowBits)
    if (clientMaxWindowBits < MAX_WINDOW_BITS) {
      response.push({ name: CLIENT_MAX_WINDOW_BITS, value: String(clientMaxWindowBits) })
    }
  }

  return {
    params: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits },
    header: formatExtensionHeader([{ name: PERMESSAGE_DEFLATE, params: response }])
  }
}

/**
 * Client side (RFC 7692 §5.1): our offer, as a `Sec-WebSocket-Extensions` value. It always
 * carries `client_max_window_bits` (bare, or with our limit) so a server may ask us for a
 * smaller window, and asks for each restriction `config` sets.
 */
export function buildPerMessageDeflateOffer (config: Readonly<PerMessageDeflateConfig> = DEFAULT_DEFLATE_CONFIG): string {
  const params: ExtensionParam[] = []
  if (config.serverNoContextTakeover) params.push({ name: SERVER_NO_CONTEXT_TAKEOVER, value: true })
  if (config.clientNoContextTakeover) params.push({ name: CLIENT_NO_CONTEXT_TAKEOVER, value: true })
  if (config.serverMaxWindowBits < MAX_WINDOW_BITS) params.push({ name: SERVER_MAX_WINDOW_BITS, value: String(config.serverMaxWindowBits) })
  params.push({
    name: CLIENT_MAX_WINDOW_BITS,
    value: config.clientMaxWindowBits < MAX_WINDOW_BITS ? String(config.clientMaxWindowBits) : true
  })
  return formatExtensionHeader([{ name: PERMESSAGE_DEFLATE, params }])
}

/** The client's verdict on the server's answer. */
export type DeflateResponseResult =
  /** `params` is null when the server declined (no permessage-deflate in its answer). */
  | { ok: true, params: PerMessageDeflateParams | null }
  /** The handshake must fail (RFC 6455 §4.1 item 6 of the client's checks); `reason` says why. */
  | { ok: false, reason: string }

/**
 * Client side (RFC 7692 §5.1, §7.1): checks the server's `Sec-WebSocket-Extensions` answer to
 * the offer `buildPerMessageDeflateOffer(config)` made. Anything we did not offer, a second
 * element, an unknown or repeated parameter, an out-of-range value, or an answer that ignores
 * a restriction we asked for fails the handshake with a reason naming it.
 */
export function validatePerMessageDeflateResponse (
  header: string | undefined,
  config: Readonly<PerMessageDeflateConfig> = DEFAULT_DEFLATE_CONFIG
): DeflateResponseResult {
  if (header === undefined) return { ok: true, params: null }
  const elements = parseExtensionHeader(header)
  if (elements.length === 0) return { ok: true, params: null }
  const malformed = elements.find((element) => element.error !== undefined)
  if (malformed !== undefined) return refuse(`malformed Sec-WebSocket-Extensions: ${malformed.error as string}`)
  const element = elements[0] as ExtensionElement
  // RFC 6455 §9.1: a server may only answer with extensions the client offered.
  if (element.name !== PERMESSAGE_DEFLATE) return refuse(`server accepted extension ${element.name}, which was not offered`)
  if (elements.length > 1) return refuse(`server accepted ${elements.length} extensions, but one permessage-deflate was offered`)

  const answer = readParams(element.params, false)
  if (typeof answer === 'string') return refuse(`invalid permessage-deflate response: ${answer}`)
  // §7.1.1.1: an offer with server_no_context_takeover is accepted only with it in the answer.
  if (config.serverNoContextTakeover && !answer.serverNoContextTakeover) {
    return refuse('server ignored the requested server_no_context_takeover')
  }
  // §7.1.2.1: an offered server_max_window_bits is accepted only with a value <= ours.
  if (config.serverMaxWindowBits < MAX_WINDOW_BITS) {
    if (answer.serverMaxWindowBits === undefined) return refuse('server ignored the requested server_max_window_bits')
    if (answer.serverMaxWindowBits > config.serverMaxWindowBits) {
      return refuse(`server_max_window_bits=${answer.serverMaxWindowBits} exceeds the ${config.serverMaxWindowBits} offered`)
    }
  }
  // §7.1.2.2: the answer's client_max_window_bits may only lower what we offered.
  const answeredClientBits = answer.clientMaxWindowBits as number | undefined
  if (answeredClientBits !== undefined && answeredClientBits > config.clientMaxWindowBits) {
    return refuse(`client_max_window_bits=${answeredClientBits} exceeds the ${config.clientMaxWindowBits} offered`)
  }
  return {
    ok: true,
    params: {
      serverNoContextTakeover: answer.serverNoContextTakeover,
      // Our own wish holds even if the server did not repeat it: it only restricts us.
      clientNoContextTakeover: answer.clientNoContextTakeover || config.clientNoContextTakeover,
      serverMaxWindowBits: answer.serverMaxWindowBits ?? MAX_WINDOW_BITS,
      clientMaxWindowBits: Math.min(answeredClientBits ?? MAX_WINDOW_BITS, config.clientMaxWindowBits)
    }
  }
}

function refuse (reason: string): DeflateResponseResult {
  return { ok: false, reason }
}
