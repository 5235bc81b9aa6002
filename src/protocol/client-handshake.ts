import { randomBytes } from 'node:crypto'
import { WEBSOCKET_VERSION } from './constants.js'
import { computeAcceptKey, type HeaderBag } from './handshake.js'
import { assertHeaderValue, hasToken, isToken, parseTokenList } from './header-tokens.js'

/** RFC 6455 §4.1 item 7: a fresh random 16-byte nonce, base64-encoded. */
export function generateClientKey (): string {
  return randomBytes(16).toString('base64')
}

export interface ClientRequestOptions {
  /** The Host header (host[:port]). */
  host: string
  /** Path and query, starting with '/'. */
  path: string
  key: string
  /** Subprotocols to offer, in order of preference. */
  protocols?: readonly string[]
  /** Extra request headers (cookies, authorization). */
  headers?: Record<string, string | readonly string[]>
  /** Our `Sec-WebSocket-Extensions` offer (RFC 6455 §9.1), if any. */
  extensions?: string
}

const MANAGED_HEADERS = new Set(['host', 'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions'])

/** The opening handshake request (RFC 6455 §4.1). Throws TypeError for unsafe header text. */
export function buildClientRequest (options: ClientRequestOptions): string {
  assertHeaderValue('path', options.path)
  assertHeaderValue('host', options.host)
  let request = `GET ${options.path} HTTP/1.1\r\n` +
    `Host: ${options.host}\r\n` +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${options.key}\r\n` +
    `Sec-WebSocket-Version: ${WEBSOCKET_VERSION}\r\n`
  const protocols = options.protocols ?? []
  if (protocols.length > 0) {
    for (const protocol of protocols) {
      if (!isToken(protocol)) throw new TypeError(`invalid subprotocol name ${JSON.stringify(protocol)}`)
    }
    if (new Set(protocols).size !== protocols.length) throw new TypeError('subprotocol names must be unique')
    request += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`
  }
  if (options.extensions !== undefined) {
    assertHeaderValue('Sec-WebSocket-Extensions', options.extensions)
    request += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`)
    if (MANAGED_HEADERS.has(name.toLowerCase())) continue
    const values = typeof value === 'string' ? [value] : value
    for (const item of values) {
      assertHeaderValue(name, item)
      request += `${name}: ${item}\r\n`
    }
  }
  return request + '\r\n'
}

/** A parsed HTTP/1.1 response head. */
export interface HttpResponseHead {
  statusCode: number
  statusMessage: string
  /** Lower-case names; repeated headers become arrays (set-cookie) or stay separate values. */
  headers: Record<string, string | string[]>
}

/**
 * Parses an HTTP response head (RFC 9112 §4, §5): the status line and header fields, up to
 * and excluding the blank line. Returns null for anything malformed. Linear in the input.
 */
export function parseResponseHead (head: string): HttpResponseHead | null {
  const lines = head.split('\r\n')
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0])
  if (statusLine === null) return null
  const headers: Record<string, string | string[]> = Object.create(null)
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]
    if (line === '') continue
    const colon = line.indexOf(':')
    if (colon <= 0) return null
    const name = line.slice(0, colon)
    if (!isToken(name)) return null
    const key = name.toLowerCase()
    const value = line.slice(colon + 1).trim()
    const existing = headers[key]
    if (existing === undefined) headers[key] = value
    else if (Array.isArray(existing)) existing.push(value)
    else headers[key] = [existing, value]
  }
  return { statusCode: Number(statusLine[1]), statusMessage: statusLine[2] ?? '', headers }
}

/** Position just after the blank line ending an HTTP head in `data`, or -1 if not there yet. */
export function findHeadEnd (data: Buffer): number {
  const index = data.indexOf('\r\n\r\n')
  return index === -1 ? -1 : index + 4
}

export type ServerHandshakeResult =
  /** `extensions`: the server's `Sec-WebSocket-Extensions` answer, for the offer's own check. */
  | { ok: true, protocol: string, extensions: string | undefined }
  | { ok: false, reason: string }

/**
 * Checks the server's 101 (RFC 6455 §4.1, client requirements 1-6): the Upgrade and
 * Connection headers, the accept key derived from our key, and a subprotocol we offered.
 * Extensions fail the handshake when we offered none; otherwise the answer is returned for the
 * offering extension to check (§4.1 item 5 of the client's checks).
 */
export function validateServerHandshake (
  response: HttpResponseHead,
  key: string,
  offeredProtocols: readonly string[],
  offeredExtensions = false
): ServerHandshakeResult {
  const headers = response.headers as HeaderBag
  if (response.statusCode !== 101) return { ok: false, reason: `expected status 101, got ${response.statusCode}` }
  if (!hasToken(one(headers.upgrade), 'websocket')) return { ok: false, reason: 'missing Upgrade: websocket' }
  if (!hasToken(one(headers.connection), 'upgrade')) return { ok: false, reason: 'missing Connection: Upgrade' }
  if (one(headers['sec-websocket-accept']) !== computeAcceptKey(key)) {
    return { ok: false, reason: 'invalid Sec-WebSocket-Accept' }
  }
  const extensions = one(headers['sec-websocket-extensions'])
  if (extensions !== undefined && !offeredExtensions) {
    return { ok: false, reason: 'server selected an extension that was not offered' }
  }
  const selected = headers['sec-websocket-protocol']
  if (selected === undefined) return { ok: true, protocol: '', extensions }
  const parsed = typeof selected === 'string' ? parseTokenList(selected) : null
  if (parsed === null || parsed.length !== 1 || !offeredProtocols.includes(parsed[0])) {
    return { ok: false, reason: 'server selected a subprotocol that was not offered' }
  }
  return { ok: true, protocol: parsed[0], extensions }
}

function one (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value
}

/**
 * Decodes as much of a chunked HTTP body (RFC 9112 §7.1) as has arrived, for the body of a
 * refused handshake. `complete` once the last (zero-size) chunk is in; malformed input ends
 * the body where it breaks.
 */
export function decodeChunked (body: Buffer): { data: Buffer, complete: boolean } {
  const pieces: Buffer[] = []
  let offset = 0
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset)
    if (lineEnd === -1) break
    // The size may carry extensions after ';' (§7.1.1); they mean nothing here.
    const sizeText = body.toString('latin1', offset, lineEnd).split(';')[0].trim()
    const size = /^[0-9a-fA-F]{1,8}$/.test(sizeText) ? parseInt(sizeText, 16) : -1
    if (size < 0) return { data: Buffer.concat(pieces), complete: true }
    if (size === 0) return { data: Buffer.concat(pieces), complete: true }
    const start = lineEnd + 2
    if (start + size + 2 > body.length) break
    pieces.push(body.subarray(start, start + size))
    offset = start + size + 2
  }
  return { data: Buffer.concat(pieces), complete: false }
}
