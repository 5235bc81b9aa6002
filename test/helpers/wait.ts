/**
 * Helpers for the connection and client tests.
 *
 * - Bounded waits: every wait rejects with a labelled error after a timeout, so a hang fails
 *   the test fast instead of stalling the run, and every listener a wait adds is removed when
 *   it settles.
 * - An in-memory socket pair, and a raw peer that records every byte the socket under test
 *   writes.
 *
 * (They live here, in test/helpers/, because tap runs every file of a test directory it is
 * given, and excludes only this folder.)
 */
import type { EventEmitter } from 'node:events'
import { Duplex } from 'node:stream'
import { createDuplexPair, createWebSocket, type WebSocketOptions } from '../../src/connection/index.js'
import { parseFrames, type ParsedFrame } from './frames.js'
import type { Teardown } from './teardown.js'

/** Default bound for a wait, in milliseconds: generous, only there to turn a hang into a failure. */
export const WAIT = 3000

/** Rejects with a labelled error if `promise` does not settle within `ms`. */
export async function withTimeout<T> (promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** One turn of the event loop (after pending nextTicks, microtasks and I/O callbacks). */
export const turn = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

/**
 * The arguments of the next `event` on `emitter`, within `ms`. Rejects early when `rejectOn`
 * (say 'error') fires first.
 */
export async function once<T extends unknown[] = unknown[]> (
  emitter: EventEmitter,
  event: string,
  ms = WAIT,
  rejectOn?: string
): Promise<T> {
  let onEvent: ((...args: unknown[]) => void) | undefined
  let onReject: ((error: unknown) => void) | undefined
  try {
    return await withTimeout(new Promise<T>((resolve, reject) => {
      onEvent = (...args: unknown[]) => resolve(args as T)
      emitter.once(event, onEvent)
      if (rejectOn !== undefined) {
        onReject = (error: unknown) => reject(error)
        emitter.once(rejectOn, onReject)
      }
    }), ms, `'${event}'`)
  } finally {
    if (onEvent !== undefined) emitter.removeListener(event, onEvent)
    if (onReject !== undefined && rejectOn !== undefined) emitter.removeListener(rejectOn, onReject)
  }
}

/** Polls `condition` every few milliseconds until it holds, within `ms`. */
export async function until (condition: () => boolean, ms = WAIT, label = 'a condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`)
    await sleep(5)
  }
}

/** A promise settled from elsewhere (a server handler, an event), awaited with a bound. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (error: unknown) => void
  wait: (ms?: number, label?: string) => Promise<T>
}

export function deferred<T> (): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  // A deferred nobody awaits must not become an unhandled rejection.
  promise.catch(() => {})
  return { promise, resolve, reject, wait: async (ms = WAIT, label = 'a deferred value') => await withTimeout(promise, ms, label) }
}

/** Everything an emitter emitted, in order, as [event, ...args]; and bounded waits on it. */
export class EventLog {
  readonly events: Array<[string, ...unknown[]]> = []
  private readonly waiters: Array<() => void> = []

  constructor (emitter: EventEmitter, names: readonly string[]) {
    for (const name of names) {
      emitter.on(name, (...args: unknown[]) => {
        this.events.push([name, ...args])
        for (const wake of this.waiters.splice(0)) wake()
      })
    }
  }

  /** The events named `name`, each as its argument list. */
  of (name: string): unknown[][] {
    return this.events.filter((event) => event[0] === name).map((event) => event.slice(1))
  }

  count (name: string): number {
    return this.of(name).length
  }

  /** Waits until at least `n` events named `name` were logged; returns the n-th's arguments. */
  async nth (name: string, n = 1, ms = WAIT): Promise<unknown[]> {
    await withTimeout(new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.count(name) >= n) resolve()
        else this.waiters.push(check)
      }
      check()
    }), ms, `${n} '${name}' event(s)`)
    return this.of(name)[n - 1]
  }
}

// In-memory sockets and frames.

export const EVENTS = ['message', 'close', 'error', 'ping', 'pong'] as const

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

/** ASCII text of exactly `size` bytes that is not one repeated byte (a shuffle would show). */
export function text (size: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  let unit = ''
  for (let i = 0; i < 997; i++) unit += alphabet[(i * 7) % alphabet.length]
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size)
}

/** Deterministic bytes of `size` (no crypto needed for content checks). */
export function pattern (size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size)
  let x = seed * 2654435761 >>> 0
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
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

/** Sizes across every length encoding, as [label, bytes]. */
export const SIZES: ReadonlyArray<[string, number]> = [
  ['0 B', 0],
  ['125 B', 125],
  ['126 B', 126],
  ['65535 B', 65535],
  ['64 KiB', 64 * 1024],
  ['1 MiB', 1024 * 1024]
]
