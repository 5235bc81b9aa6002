/**
 * Feed-in-every-chunking helper for codec tests.
 *
 * A sans-I/O parser must give the same result however its input is cut. `chunkings(input)`
 * yields the same bytes cut in many ways: whole, byte by byte, split at every offset into two
 * pieces, and several seeded random cuttings. Every chunking gets its own fresh copy of the
 * input, because the parser unmasks payload in place.
 *
 * The second half runs WebSocketProtocol over every chunking with a recording handler and
 * checks that all chunkings agree (`checkAllChunkings`).
 */
import { isDeepStrictEqual } from 'node:util'
import type { Test } from 'tap'
import { ProtocolEvent, WebSocketProtocol, type FrameOutput, type ProtocolOptions } from '../../src/protocol/index.js'
import { describeFrame, show, type Entry, type Expected } from './frames.js'

/**
 * mulberry32: a tiny, fast, seeded PRNG (public domain). Returns floats in [0, 1). The same
 * seed always gives the same sequence, so random tests are reproducible.
 */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [min, max] (inclusive) from a seeded source. */
export function randomInt (random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1))
}

/** `length` random bytes from a seeded source. */
export function randomBytes (random: () => number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256)
  return out
}

export interface Chunking {
  /** e.g. 'whole', 'byte-by-byte', 'split@17', 'random#3' */
  name: string
  chunks: Buffer[]
}

export interface ChunkingOptions {
  /** Seeds of the random chunkings. @default [1, 2, 3, 4, 5, 6, 7, 8] */
  seeds?: readonly number[]
  /**
   * Inputs up to this many bytes are split at every offset. Longer inputs (a 1 MiB frame would
   * need a million copies of a million bytes) are split at every offset of their first and
   * last `edge` bytes, plus `sampled` seeded random offsets. @default 4096
   */
  exhaustiveSplitLimit?: number
  /** @default 256 */
  edge?: number
  /** @default 48 */
  sampled?: number
  /** Inputs up to this many bytes are also fed byte by byte. @default Infinity */
  byteByByteLimit?: number
}

/** Cuts a fresh copy of `input` at the given sorted, distinct offsets (each in 1..length-1). */
export function cutAt (input: Uint8Array, offsets: readonly number[]): Buffer[] {
  const copy = Buffer.from(input)
  const chunks: Buffer[] = []
  let start = 0
  for (const offset of offsets) {
    chunks.push(copy.subarray(start, offset))
    start = offset
  }
  chunks.push(copy.subarray(start))
  return chunks
}

/** Cuts `data` into pieces of `size` bytes (the last may be shorter). */
export function chop (data: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = []
  for (let offset = 0; offset < data.length; offset += size) pieces.push(data.subarray(offset, offset + size))
  return pieces
}

/** The offsets a two-piece split is tried at, per the options above. */
export function splitOffsets (length: number, options: ChunkingOptions = {}): number[] {
  const limit = options.exhaustiveSplitLimit ?? 4096
  const offsets = new Set<number>()
  if (length <= limit) {
    for (let i = 1; i < length; i++) offsets.add(i)
  } else {
    const edge = options.edge ?? 256
    for (let i = 1; i <= edge; i++) {
      offsets.add(i)
      offsets.add(length - i)
    }
    const random = seededRandom(length)
    const sampled = options.sampled ?? 48
    for (let i = 0; i < sampled; i++) offsets.add(randomInt(random, 1, length - 1))
  }
  return [...offsets].sort((a, b) => a - b)
}

/** Random cut offsets: from a few big pieces to many small ones, depending on the seed. */
function randomOffsets (length: number, seed: number): number[] {
  if (length < 2) return []
  const random = seededRandom(seed * 7919 + length)
  const offsets = new Set<number>()
  // Odd seeds cut into small pieces (1..16 bytes) near the start, even seeds anywhere.
  if (seed % 2 === 1) {
    let position = 0
    const stop = Math.min(length, 4096)
    for (;;) {
      position += randomInt(random, 1, 16)
      if (position >= stop) break
      offsets.add(position)
    }
  }
  const cuts = randomInt(random, 1, Math.min(length - 1, 64))
  for (let i = 0; i < cuts; i++) offsets.add(randomInt(random, 1, length - 1))
  return [...offsets].sort((a, b) => a - b)
}

/** Every chunking of `input`: whole, byte by byte, two pieces at every offset, random. */
export function * chunkings (input: Uint8Array, options: ChunkingOptions = {}): Generator<Chunking> {
  const length = input.length
  yield { name: 'whole', chunks: [Buffer.from(input)] }
  if (length >= 2 && length <= (options.byteByByteLimit ?? Infinity)) {
    const copy = Buffer.from(input)
    const chunks: Buffer[] = []
    for (let i = 0; i < length; i++) chunks.push(copy.subarray(i, i + 1))
    yield { name: 'byte-by-byte', chunks }
  }
  for (const offset of splitOffsets(length, options)) {
    yield { name: `split@${offset}`, chunks: cutAt(input, [offset]) }
  }
  for (const seed of options.seeds ?? [1, 2, 3, 4, 5, 6, 7, 8]) {
    yield { name: `random#${seed}`, chunks: cutAt(input, randomOffsets(length, seed)) }
  }
}

// --- Running WebSocketProtocol over every chunking ------------------------------------------

export interface Recording {
  /** The protocol's FrameOutput: records every frame written. */
  output: FrameOutput
  /** Pulls every event the protocol has now and records it. */
  drain: (protocol: WebSocketProtocol) => void
  /** Events and written frames, in the order they happened. */
  timeline: Entry[]
  /** Raw bytes written, one hex string per frame (chunks joined up to endOfFrame). */
  written: string[]
  /** The raw chunks passed to write, with their endOfFrame flags. */
  writes: Array<{ chunk: Buffer, endOfFrame: boolean }>
}

export function recorder (): Recording {
  const timeline: Entry[] = []
  const written: string[] = []
  const writes: Array<{ chunk: Buffer, endOfFrame: boolean }> = []
  let pending: Buffer[] = []
  const output: FrameOutput = {
    write (chunk, endOfFrame) {
      writes.push({ chunk, endOfFrame })
      // Copies: the protocol promises never to reuse a buffer it wrote, and we check that
      // later by comparing these copies with the originals.
      pending.push(Buffer.from(chunk))
      if (!endOfFrame) return
      const frame = Buffer.concat(pending)
      pending = []
      written.push(frame.toString('hex'))
      timeline.push({ type: 'write', frame: describeFrame(frame) })
    }
  }
  const drain = (protocol: WebSocketProtocol): void => {
    for (let event = protocol.next(); event !== ProtocolEvent.None; event = protocol.next()) {
      switch (event) {
        case ProtocolEvent.Message:
          timeline.push({ type: 'message', binary: protocol.isBinary, data: show(protocol.data) })
          break
        case ProtocolEvent.Ping:
          timeline.push({ type: 'ping', data: show(protocol.data) })
          break
        case ProtocolEvent.Pong:
          timeline.push({ type: 'pong', data: show(protocol.data) })
          break
        case ProtocolEvent.Close:
          timeline.push({ type: 'close', code: protocol.closeCode, reason: protocol.closeReason })
          break
        case ProtocolEvent.Error: {
          const error = protocol.error!
          timeline.push({ type: 'error', code: error.code, closeCode: error.closeCode, message: error.message })
        }
      }
    }
  }
  return { output, drain, timeline, written, writes }
}

/** A deterministic mask key source: keys 01 02 03 04, 05 06 07 08, ... */
export function countingMaskSource (): () => Uint8Array {
  let next = 1
  return () => {
    const key = Buffer.from([next & 0xff, (next + 1) & 0xff, (next + 2) & 0xff, (next + 3) & 0xff])
    next += 4
    return key
  }
}

export type FixtureOptions = Omit<ProtocolOptions, 'maskKeySource'>

export interface Run extends Recording {
  protocol: WebSocketProtocol
  role: 'server' | 'client'
}

/** Creates a protocol with a recorder (and, for clients, a fresh deterministic mask source). */
export function createProtocol (options: FixtureOptions): Run {
  const recording = recorder()
  const protocol = new WebSocketProtocol(recording.output, { ...options, maskKeySource: countingMaskSource() })
  return { ...recording, protocol, role: options.role }
}

/**
 * Feeds `chunks` one by one, pulling every event after each; a throw (which `receive` and
 * `next` must never do) is recorded.
 */
export function feed (run: Run, chunks: Iterable<Buffer>): void {
  for (const chunk of chunks) {
    try {
      run.protocol.receive(chunk)
      run.drain(run.protocol)
    } catch (error) {
      run.timeline.push({ type: 'threw', message: String(error) })
      return
    }
  }
}

/**
 * Runs fresh copies of `chunks` (the protocol unmasks received bytes in place, so feeding the
 * caller's buffers would change them for the next run).
 */
export function runChunks (options: FixtureOptions, chunks: Iterable<Buffer>): Run {
  const run = createProtocol(options)
  feed(run, [...chunks].map((chunk) => Buffer.from(chunk)))
  return run
}

/** Strict comparison of everything observable: events, frames written, raw bytes. */
function observable (run: Run): unknown {
  return { timeline: run.timeline, written: run.written }
}

/**
 * Runs `input` through every chunking and asserts that (1) the whole-input run matches
 * `expected`, (2) every other chunking gives exactly the same events and bytes, and (3) when a
 * protocol error was reported, the close frame written carries its close code and message.
 * Returns the whole-input run for further checks.
 */
export function checkAllChunkings (
  t: Test,
  input: Buffer,
  expected: readonly Expected[],
  options: FixtureOptions = { role: 'server' },
  chunkingOptions: ChunkingOptions = {}
): Run {
  let whole: Run | undefined
  const disagreeing: string[] = []
  let firstDisagreeing: Run | undefined
  let count = 0
  for (const chunking of chunkings(input, chunkingOptions)) {
    // Each chunking is already a fresh copy.
    const run = createProtocol(options)
    feed(run, chunking.chunks)
    count++
    if (whole === undefined) {
      whole = run
      t.strictSame(shape(run.timeline, expected), expected, 'events and writes, input whole')
      checkErrorCloseFrame(t, run)
      continue
    }
    if (!isDeepStrictEqual(observable(run), observable(whole))) {
      disagreeing.push(chunking.name)
      firstDisagreeing ??= run
    }
  }
  t.same(disagreeing, [], `all ${count} chunkings give identical events and bytes`)
  if (firstDisagreeing !== undefined) t.same(observable(firstDisagreeing), observable(whole!), `first disagreeing chunking: ${disagreeing[0]}`)
  return whole!
}

/**
 * `actual` reduced to the keys `expected` names, entry by entry, with values that match an
 * expected RegExp replaced by it: so `t.same(shape(a, e), e)` compares strictly, allows a
 * pattern where the text is not part of the API, and still shows a readable diff.
 */
export function shape (actual: readonly Entry[], expected: readonly Expected[]): unknown[] {
  return actual.map((entry, index) => {
    const pattern = expected[index] as Record<string, unknown> | undefined
    if (pattern === undefined) return entry
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(pattern)) {
      const value = (entry as Record<string, unknown>)[key]
      const want = pattern[key]
      out[key] = want instanceof RegExp && typeof value === 'string' && want.test(value) ? want : value
    }
    return out
  })
}

/** When the protocol failed, the close frame it wrote has the error's code and message. */
function checkErrorCloseFrame (t: Test, run: Run): void {
  const errorIndex = run.timeline.findIndex((entry) => entry.type === 'error')
  if (errorIndex === -1) return
  const error = run.timeline[errorIndex] as Extract<Entry, { type: 'error' }>
  const closeWrites = run.timeline.filter((entry) => entry.type === 'write' && entry.frame.startsWith('close'))
  const masked = run.role === 'client'
  t.same(closeWrites.at(-1), { type: 'write', frame: `close${masked ? ' masked' : ''} ${error.closeCode} ${JSON.stringify(error.message)}` },
    'the close frame sent carries the close code and the error message as reason')
  t.ok(Buffer.byteLength(error.message) <= 123, 'the reason fits a close frame')
}
