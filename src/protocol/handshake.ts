import { createHash } from 'node:crypto'
import { WEBSOCKET_GUID, WEBSOCKET_VERSION } from './constants.js'
import { assertHeaderValue, hasToken, isToken, parseTokenList } from './header-tokens.js'

/** RFC 6455 §4.2.2 step 5.4: base64(SHA-1(key + GUID)). */
export function computeAcceptKey (key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64')
}

/** Base64 of exactly 16 bytes: 22 characters and `==` (RFC 6455 §4.1, §11.3.1). */
const KEY_PATTERN = /^[A-Za-z0-9+/]{22}==$/

/** Header values as Node's `IncomingMessage.headers` gives them (lower-case names). */
export type HeaderBag = Record<string, string | string[] | undefined>

/** What the handshake check needs from the HTTP request. */
export interface HandshakeRequest {
  method: string | undefined
  /** e.g. '1.1' */
  httpVersion: string
  headers: HeaderBag
}

export interface HandshakeAccepted {
  ok: true
  /** The client's Sec-WebSocket-Key. */
  key: string
  /** Subprotocols the client offered, in its order of preference (§4.1 item 10). */
  protocols: string[]
  /** Extension offers, as raw header text (several header lines joined with commas). */
  extensions: string | undefined
}

export interface HandshakeRejected {
  ok: false
  /** HTTP status to answer with: 400, or 426 for an unsupported version (§4.4). */
  status: number
  /** A short, client-safe explanation, sent as the response body. */
  reason: string
  /** Headers the response must carry (`Sec-WebSocket-Version` for 426). */
  headers: Record<string, string>
}

export type HandshakeResult = HandshakeAccepted | HandshakeRejected

function reject (status: number, reason: string, headers: Record<string, string> = {}): HandshakeRejected {
  return { ok: false, status, reason, headers }
}

/** A header that must appear once; arrays (repeated headers) are not single values. */
function single (headers: HeaderBag, name: string): string | undefined {
  const value = headers[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * Checks a client's opening handshake against RFC 6455 §4.2.1. Pure: it answers with a value,
 * never throws, and runs in time linear in the header sizes.
 */
export function validateClientHandshake (request: HandshakeRequest): HandshakeResult {
  const { headers } = request
  // §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
  if (request.method !== 'GET') return reject(400, 'WebSocket handshake must use GET')
  if (!isHttp11OrLater(request.httpVersion)) return reject(400, 'WebSocket handshake needs HTTP/1.1 or later')
  // §4.2.1 item 2.
  if (single(headers, 'host') === undefined) return reject(400, 'missing Host header')
  // §4.2.1 item 3: Upgrade lists "websocket", case-insensitively.
  if (!hasToken(joined(headers.upgrade), 'websocket')) return reject(400, 'Upgrade header must include "websocket"')
  // §4.2.1 item 4: Connection holds the "Upgrade" token.
  if (!hasToken(joined(headers.connection), 'upgrade')) return reject(400, 'Connection header must include "Upgrade"')
  // §4.2.1 item 6 and §4.4: answer an unsupported version with 426 and the versions we speak.
  if (single(headers, 'sec-websocket-version')?.trim() !== WEBSOCKET_VERSION) {
    return reject(426, 'unsupported Sec-WebSocket-Version (only 13 is supported)', { 'sec-websocket-version': WEBSOCKET_VERSION })
  }
  // §4.2.1 item 5: a base64-encoded 16-byte nonce, sent once.
  const key = single(headers, 'sec-websocket-key')?.trim()
  if (key === undefined || !KEY_PATTERN.test(key)) {
    return reject(400, 'Sec-WebSocket-Key must be base64 of 16 bytes')
  }
  let protocols: string[] = []
  const offered = joined(headers['sec-websocket-protocol'])
  if (offered !== undefined) {
    const parsed = parseTokenList(offered)
    if (parsed === null) return reject(400, 'invalid Sec-WebSocket-Protocol header')
    protocols = parsed
  }
  return { ok: true, key, protocols, extensions: joined(headers['sec-websocket-extensions']) }
}

/** Repeated list headers are one list (RFC 9110 §5.3). */
function joined (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value
}

function isHttp11OrLater (version: string): boolean {
  const dot = version.indexOf('.')
  const major = Number(dot === -1 ? version : version.slice(0, dot))
  const minor = dot === -1 ? 0 : Number(version.slice(dot + 1))
  return major > 1 || (major === 1 && minor >= 1)
}

/**
 * The 101 response (RFC 6455 §4.2.2 step 5), with any extra headers a route added (a cookie,
 * say). Header names and values are checked so no input can split the response.
 */
export function buildAcceptResponse (
  key: string,
  protocol: string | undefined,
  extraHeaders: Iterable<[string, string | number | readonly string[]]> = [],
  extensions?: string
): string {
  let response = 'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n`
  if (protocol !== undefined) {
    assertHeaderValue('Sec-WebSocket-Protocol', protocol)
    response += `Sec-WebSocket-Protocol: ${protocol}\r\n`
  }
  // §9.1: the extensions the server accepted, with the parameters it chose.
  if (extensions !== undefined) {
    assertHeaderValue('Sec-WebSocket-Extensions', extensions)
    response += `Sec-WebSocket-Extensions: ${extensions}\r\n`
  }
  for (const [name, value] of extraHeaders) {
    if (!isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`)
    const values = Array.isArray(value) ? value : [String(value)]
    for (const item of values) {
      assertHeaderValue(name, item)
      response += `${name}: ${item}\r\n`
    }
  }
  return response + '\r\n'
}
