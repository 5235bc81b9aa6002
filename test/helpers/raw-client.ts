/**
 * A raw TCP client for plugin tests: it sends any handshake and any frame bytes (valid or
 * not), parses the HTTP response head properly (status line, then header lines, then a body
 * sized by Content-Length), reads the server's frames back (with the decoder of frames.ts), and
 * reports when the server closes the TCP connection. Every wait is bounded by a timeout, so a server that
 * hangs fails the test instead of stalling the run.
 */
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { OP, decodeClose, parseFrame, type CloseBody, type ParsedFrame } from './frames.js'
import { WAIT, Wakeups, withTimeout } from './wait.js'

/** A parsed HTTP response head (and body, when Content-Length says how long it is). */
export interface HttpResponse {
  httpVersion: string
  statusCode: number
  statusMessage: string
  /** Lower-case names; repeated headers are joined with ', ' except set-cookie. */
  headers: Record<string, string>
  /** Every set-cookie value, in order. */
  setCookie: string[]
  /** Header lines in order, as [name, value] with the original case. */
  rawHeaders: Array<[string, string]>
  body: Buffer
}

export interface HandshakeSpec {
  path?: string
  method?: string
  /** The HTTP version in the request line. @default '1.1' */
  httpVersion?: string
  /** Headers that replace or remove (value `null`) the defaults of a valid handshake. */
  headers?: Record<string, string | null>
  /** Extra header lines appended as they are (for repeated headers). */
  extraLines?: string[]
  host?: string
}

/** A fresh valid Sec-WebSocket-Key. */
export function randomKey (): string {
  return randomBytes(16).toString('base64')
}

/**
 * The bytes of an opening handshake request. Starts from a valid one; `headers` replace or
 * (with null) remove any default, so each test breaks exactly one thing.
 */
export function handshakeRequest (spec: HandshakeSpec = {}): Buffer {
  const defaults: Record<string, string | null> = {
    Host: spec.host ?? '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomKey(),
    'Sec-WebSocket-Version': '13'
  }
  const merged = new Map<string, [string, string | null]>()
  for (const [name, value] of Object.entries(defaults)) merged.set(name.toLowerCase(), [name, value])
  for (const [name, value] of Object.entries(spec.headers ?? {})) merged.set(name.toLowerCase(), [name, value])
  let text = `${spec.method ?? 'GET'} ${spec.path ?? '/'} HTTP/${spec.httpVersion ?? '1.1'}\r\n`
  for (const [name, value] of merged.values()) {
    if (value !== null) text += `${name}: ${value}\r\n`
  }
  for (const line of spec.extraLines ?? []) text += `${line}\r\n`
  return Buffer.from(text + '\r\n', 'latin1')
}

/** A plain (non-upgrade) HTTP/1.1 request that asks the server to close afterwards. */
export function plainRequest (method: string, path: string): string {
  return `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`
}

/** Parses an HTTP response head at the start of `data`; null until the blank line arrived. */
export function parseResponseHead (data: Buffer): { response: Omit<HttpResponse, 'body'>, headLength: number } | null {
  const end = data.indexOf('\r\n\r\n')
  if (end === -1) return null
  const lines = data.subarray(0, end).toString('latin1').split('\r\n')
  const statusLine = lines[0]
  const match = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine)
  if (match === null) throw new Error(`malformed status line: ${JSON.stringify(statusLine)}`)
  const headers: Record<string, string> = {}
  const setCookie: string[] = []
  const rawHeaders: Array<[string, string]> = []
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`)
    const name = line.slice(0, colon)
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new Error(`malformed header name: ${JSON.stringify(name)}`)
    const value = line.slice(colon + 1).trim()
    rawHeaders.push([name, value])
    const lower = name.toLowerCase()
    if (lower === 'set-cookie') setCookie.push(value)
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}, ${value}`
  }
  return {
    response: { httpVersion: match[1], statusCode: Number(match[2]), statusMessage: match[3] ?? '', headers, setCookie, rawHeaders },
    headLength: end + 4
  }
}

/**
 * One raw connection. Received bytes accumulate in a buffer; `readResponse` consumes the
 * HTTP head (and body), `readFrame` consumes one frame at a time.
 */
export class RawClient {
  readonly socket: net.Socket
  /** Set when the server's FIN arrived. */
  ended = false
  /** Set when the TCP connection is fully closed. */
  closed = false
  /** A transport error (ECONNRESET, say), if one happened. */
  error: Error | undefined
  private buffer: Buffer = Buffer.alloc(0)
  private readonly wakeups = new Wakeups()
  private readonly closedPromise: Promise<void>

  private constructor (socket: net.Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
      this.wakeups.wake()
    })
    socket.on('end', () => {
      this.ended = true
      this.wakeups.wake()
    })
    socket.on('error', (error) => {
      this.error = error
      this.wakeups.wake()
    })
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true
        this.wakeups.wake()
        resolve()
      })
    })
  }

  /** Connects to `port` on 127.0.0.1 (or the port of a ws:// or http:// URL). */
  static async connect (target: number | string, timeout = WAIT): Promise<RawClient> {
    const port = typeof target === 'number' ? target : Number(new URL(target).port)
    const socket = net.connect({ host: '127.0.0.1', port })
    const client = new RawClient(socket)
    await withTimeout(new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    }), timeout, 'TCP connect')
    return client
  }

  /** Bytes received and not consumed yet. */
  get pending (): Buffer {
    return this.buffer
  }

  write (data: Buffer | string): void {
    this.socket.write(data)
  }

  /** Sends our FIN (half-close) without destroying the socket. */
  end (): void {
    this.socket.end()
  }

  destroy (): void {
    this.socket.destroy()
  }

  /**
   * Waits for the HTTP response head and, if it has a Content-Length, its body; consumes them.
   * Without Content-Length, a non-101 response's body runs to the connection's end. Pass
   * `noBody` for the response to a HEAD request.
   */
  async readResponse (timeout = WAIT, options: { noBody?: boolean } = {}): Promise<HttpResponse> {
    const head = await this.wakeups.waitFor(() => parseResponseHead(this.buffer), timeout, 'an HTTP response head')
    const { response, headLength } = head
    let bodyLength: number | undefined
    // RFC 9110 §6.4.1: 1xx, 204, 304 and responses to HEAD have no body, whatever the headers say.
    if (options.noBody === true || response.statusCode < 200 || response.statusCode === 204 || response.statusCode === 304) bodyLength = 0
    else if (response.headers['content-length'] !== undefined) bodyLength = Number(response.headers['content-length'])
    if (bodyLength !== undefined) {
      const total = headLength + bodyLength
      await this.wakeups.waitFor(() => (this.buffer.length >= total ? true : null), timeout, 'the response body')
      const body = Buffer.from(this.buffer.subarray(headLength, total))
      this.buffer = this.buffer.subarray(total)
      return { ...response, body }
    }
    await this.wakeups.waitFor(() => (this.ended || this.closed ? true : null), timeout, 'the end of a response without Content-Length')
    const body = Buffer.from(this.buffer.subarray(headLength))
    this.buffer = Buffer.alloc(0)
    return { ...response, body }
  }

  /** Waits for the next complete frame and consumes it. Fails if the connection ends first. */
  async readFrame (timeout = WAIT): Promise<ParsedFrame> {
    const parsed = await this.wakeups.waitFor(() => {
      const result = parseFrame(this.buffer)
      if (result === null && (this.ended || this.closed)) {
        throw new Error(`connection ended before a complete frame (${this.buffer.length} bytes pending)`)
      }
      return result
    }, timeout, 'a frame')
    this.buffer = this.buffer.subarray(parsed.length)
    return parsed.frame
  }

  /** Reads frames until a close frame, answering nothing; returns the close frame's body. */
  async readClose (timeout = WAIT): Promise<CloseBody & { frame: ParsedFrame, before: ParsedFrame[] }> {
    const before: ParsedFrame[] = []
    const deadline = Date.now() + timeout
    for (;;) {
      const frame = await this.readFrame(Math.max(1, deadline - Date.now()))
      if (frame.opcode === OP.CLOSE) return { ...decodeClose(frame.payload), frame, before }
      before.push(frame)
    }
  }

  /** Resolves when the server has closed the TCP connection (our side then closes too). */
  async waitClosed (timeout = WAIT): Promise<void> {
    await withTimeout(this.closedPromise, timeout, 'the server to close the TCP connection')
  }

  /** Resolves when the server's FIN arrived (or the socket closed). */
  async waitEnded (timeout = WAIT): Promise<void> {
    await this.wakeups.waitFor(() => (this.ended || this.closed ? true : null), timeout, 'the server FIN')
  }

  /** Opens a connection and completes a valid handshake on `path`; returns the 101 response. */
  static async open (target: number | string, path = '/', spec: HandshakeSpec = {}, timeout = WAIT): Promise<{ client: RawClient, response: HttpResponse }> {
    const client = await RawClient.connect(target, timeout)
    client.write(handshakeRequest({ ...spec, path }))
    const response = await client.readResponse(timeout)
    if (response.statusCode !== 101) {
      client.destroy()
      throw new Error(`expected 101, got ${response.statusCode} ${response.body.toString()}`)
    }
    return { client, response }
  }
}
