/**
 * A raw TCP server for the client tests: it parses the client's opening request, then lets the
 * test answer anything (a valid 101, a wrong one, a refusal, silence) and read back the frames
 * the client sends, decoded by frames.ts. Every wait is bounded; every socket is destroyed and
 * the server closed in the test's teardown.
 */
import net from 'node:net'
import { computeAccept, parseFrame, parseFrames, type ParsedFrame } from './frames.js'
import type { Teardown } from './teardown.js'
import { WAIT, Wakeups, withTimeout } from './wait.js'

/** One connection to `startRawServer`: the parsed request, then frames both ways. */
export class RawServerConnection {
  readonly socket: net.Socket
  /** The request line (empty until the request head has arrived). */
  requestLine = ''
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string> = {}
  /** Set when the client sent FIN or the socket closed. */
  ended = false
  private buffer = Buffer.alloc(0)
  private headDone = false
  private readonly wakeups = new Wakeups()

  constructor (socket: net.Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.parseHead()
      this.wakeups.wake()
    })
    socket.on('end', () => { this.ended = true; this.wakeups.wake() })
    socket.on('close', () => { this.ended = true; this.wakeups.wake() })
    socket.on('error', () => {})
  }

  /** The request's Sec-WebSocket-Key ('' when it had none). */
  get key (): string {
    return this.headers['sec-websocket-key'] ?? ''
  }

  /** Bytes received after the request head and not consumed by `readFrame` yet. */
  get pending (): Buffer {
    return this.headDone ? this.buffer : Buffer.alloc(0)
  }

  /** The complete frames in `pending`, decoded (not consumed). */
  get frames (): ParsedFrame[] {
    return parseFrames(this.pending).frames
  }

  /** Resolves once the request head has arrived. */
  async request (timeout = WAIT): Promise<void> {
    await this.wakeups.waitFor(() => (this.headDone ? true : null), timeout, 'the client request')
  }

  /** The lines of a valid 101 for this request's key, plus `extra` header lines. */
  switching (extra: string[] = []): string {
    return ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${computeAccept(this.key)}`, ...extra].join('\r\n') + '\r\n\r\n'
  }

  write (data: Buffer | string): void {
    this.socket.write(data)
  }

  /** The next frame the client sent (unmasked, with its mask key), consumed. */
  async readFrame (timeout = WAIT): Promise<ParsedFrame> {
    const parsed = await this.wakeups.waitFor(() => {
      const result = this.headDone ? parseFrame(this.buffer) : null
      if (result === null && this.ended) throw new Error('the client closed before sending a complete frame')
      return result
    }, timeout, 'a client frame')
    this.buffer = this.buffer.subarray(parsed.length)
    return parsed.frame
  }

  /** Waits until `pending` holds at least `n` complete frames; returns them all (not consumed). */
  async waitFrames (n: number, timeout = WAIT): Promise<ParsedFrame[]> {
    return await this.wakeups.waitFor(() => {
      const frames = this.frames
      return frames.length >= n ? frames : null
    }, timeout, `${n} frame(s) from the client`)
  }

  /** Resolves when the client has sent FIN (or the socket closed). */
  async waitEnded (timeout = WAIT): Promise<void> {
    await this.wakeups.waitFor(() => (this.ended ? true : null), timeout, 'the client to close TCP')
  }

  private parseHead (): void {
    if (this.headDone) return
    const end = this.buffer.indexOf('\r\n\r\n')
    if (end === -1) return
    const [requestLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n')
    this.requestLine = requestLine
    for (const line of lines) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      this.headers[name] = this.headers[name] === undefined ? value : `${this.headers[name]}, ${value}`
    }
    this.buffer = this.buffer.subarray(end + 4)
    this.headDone = true
  }
}

/** What `startRawServer` calls for each connection (both optional). */
export interface RawServerHandlers {
  /** Called as each TCP connection arrives, before any byte of it. */
  onConnection?: (connection: RawServerConnection) => void
  /** Called once a connection's request head has arrived (to answer it). */
  onRequest?: (connection: RawServerConnection) => unknown
}

/** A running raw server. */
export interface RawServer {
  /** `ws://127.0.0.1:<port>` */
  url: string
  port: number
  /** The next connection not handed out yet, in arrival order (waits up to WAIT for one). */
  next: () => Promise<RawServerConnection>
}

/** A TCP server on 127.0.0.1, port 0; closed, with every socket destroyed, in the teardown of `t`. */
export async function startRawServer (t: Teardown, handlers: RawServerHandlers = {}): Promise<RawServer> {
  const sockets = new Set<net.Socket>()
  const arrived: RawServerConnection[] = []
  const waiting: Array<(connection: RawServerConnection) => void> = []
  const server = net.createServer((socket) => {
    sockets.add(socket)
    const connection = new RawServerConnection(socket)
    handlers.onConnection?.(connection)
    const { onRequest } = handlers
    if (onRequest !== undefined) void connection.request().then(async () => await onRequest(connection), () => {})
    const waiter = waiting.shift()
    if (waiter !== undefined) waiter(connection)
    else arrived.push(connection)
  })
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  await withTimeout(new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), WAIT, 'the raw server to listen')
  const port = (server.address() as net.AddressInfo).port
  const next = async (): Promise<RawServerConnection> => {
    const queued = arrived.shift()
    if (queued !== undefined) return queued
    let waiter: ((connection: RawServerConnection) => void) | undefined
    try {
      return await withTimeout(new Promise<RawServerConnection>((resolve) => {
        waiter = resolve
        waiting.push(resolve)
      }), WAIT, 'a client connection')
    } finally {
      // A wait that timed out must not take the next connection.
      const index = waiter === undefined ? -1 : waiting.indexOf(waiter)
      if (index !== -1) waiting.splice(index, 1)
    }
  }
  return { url: `ws://127.0.0.1:${port}`, port, next }
}
