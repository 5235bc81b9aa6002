/**
 * In-memory peers for the socket under test (src/connection): a server and a client over an
 * in-memory duplex pair, a raw peer that records every byte the socket writes and can write any
 * bytes back, and a peer that swallows everything and never answers.
 */
import { Duplex } from 'node:stream'
import { createDuplexPair, createWebSocket, type WebSocketOptions } from '../../src/connection/index.js'
import { parseFrames, type ParsedFrame } from './frames.js'
import type { Teardown } from './teardown.js'
import { EVENTS, EventLog, WAIT, until } from './wait.js'

/** A server and a client WebSocket over an in-memory pair, each with an event log. */
export function openPair (t: Teardown, serverOptions: WebSocketOptions = {}, clientOptions: WebSocketOptions = {}) {
  const [serverEnd, clientEnd] = createDuplexPair()
  const server = createWebSocket(serverEnd, { ...serverOptions, role: 'server' })
  const client = createWebSocket(clientEnd, { ...clientOptions, role: 'client' })
  const serverLog = new EventLog(server, EVENTS)
  const clientLog = new EventLog(client, EVENTS)
  t.teardown(() => {
    server.terminate()
    client.terminate()
  })
  return { server, client, serverEnd, clientEnd, serverLog, clientLog }
}

/**
 * One end of an in-memory pair for the socket under test, and on the other end a raw peer
 * that records everything written to it and can write any bytes back.
 */
export function openRaw (t: Teardown, options: WebSocketOptions = {}) {
  const [end, peer] = createDuplexPair()
  const socket = createWebSocket(end, { role: 'server', ...options })
  const log = new EventLog(socket, options.onUnhandledError !== undefined ? EVENTS.filter((e) => e !== 'error') : EVENTS)
  const received = new ByteSink(peer)
  t.teardown(() => {
    socket.terminate()
    peer.destroy()
  })
  return { socket, end, peer, received, log }
}

/** Collects the bytes a stream reads, and whether it saw EOF. */
export class ByteSink {
  private chunks: Buffer[] = []
  ended = false

  constructor (stream: Duplex) {
    stream.on('data', (chunk: Buffer) => this.chunks.push(chunk))
    stream.on('end', () => { this.ended = true })
  }

  get bytes (): Buffer {
    return Buffer.concat(this.chunks)
  }

  /** The complete frames received so far. */
  get frames (): ParsedFrame[] {
    return parseFrames(this.bytes).frames
  }

  /** Waits until `n` complete frames arrived; returns them all. */
  async waitFrames (n: number, ms = WAIT): Promise<ParsedFrame[]> {
    await until(() => this.frames.length >= n, ms, `${n} frame(s) from the socket under test`)
    return this.frames
  }
}

/**
 * A Duplex that swallows everything written to it and never answers: a peer that does not
 * speak WebSocket (or hangs). Records its writes and how they arrived (write vs writev).
 */
export class SwallowingDuplex extends Duplex {
  readonly writes: Buffer[] = []
  writeCalls = 0
  writevCalls = 0
  /** When false, write callbacks are never called (a stalled kernel buffer). */
  complete = true

  constructor (options: { highWaterMark?: number } = {}) {
    super({ allowHalfOpen: true, ...options })
  }

  override _read (): void {}

  override _write (chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeCalls++
    this.writes.push(Buffer.from(chunk))
    if (this.complete) callback()
  }

  override _writev (chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.writevCalls++
    for (const { chunk } of chunks) this.writes.push(Buffer.from(chunk))
    if (this.complete) callback()
  }

  override _final (callback: (error?: Error | null) => void): void {
    callback()
  }

  get written (): Buffer {
    return Buffer.concat(this.writes)
  }
}
