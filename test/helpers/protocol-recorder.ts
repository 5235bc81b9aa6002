/**
 * Runs WebSocketProtocol (src/protocol) with a recording FrameOutput and event drain, so a test
 * can compare everything observable (events and the frames written, in order) with an expected
 * timeline; and `checkAllChunkings`, which feeds one input in every chunking of chunkings.ts and
 * checks that all of them agree. Frames written are described with frames.ts, which is
 * independent of src/protocol.
 */
import { isDeepStrictEqual } from 'node:util'
import type { Test } from 'tap'
import { ProtocolEvent, WebSocketProtocol, type FrameOutput, type ProtocolOptions } from '../../src/protocol/index.js'
import { chunkings, type ChunkingOptions } from './chunkings.js'
import { bytes, describeFrame, show, type Bytes } from './frames.js'

// --- Timelines: what happened, and what a test expects ---------------------------------------

/** One thing the protocol did: an event it reported, a frame it wrote, or a throw. */
export type Entry =
  | { type: 'write', frame: string }
  | { type: 'message', binary: boolean, data: string }
  | { type: 'ping', data: string }
  | { type: 'pong', data: string }
  | { type: 'close', code: number, reason: string }
  | { type: 'error', code: string, closeCode: number, message: string }
  | { type: 'threw', message: string }

/** Expected entries; an error's message is not part of the stable API, so it is left out. */
export type Expected =
  | Exclude<Entry, { type: 'error' } | { type: 'write' }>
  | { type: 'error', code: string, closeCode: number }
  | { type: 'write', frame: string | RegExp }

// --- Expected-event shorthands ------------------------------------------------------------

/** Shorthands for expected timeline entries; payloads are compared as `show` prints them. */
export const ev = {
  text: (data: Bytes): Expected => ({ type: 'message', binary: false, data: show(bytes(data)) }),
  binary: (data: Bytes): Expected => ({ type: 'message', binary: true, data: show(bytes(data)) }),
  ping: (data: Bytes = ''): Expected => ({ type: 'ping', data: show(bytes(data)) }),
  pong: (data: Bytes = ''): Expected => ({ type: 'pong', data: show(bytes(data)) }),
  close: (code: number, reason = ''): Expected => ({ type: 'close', code, reason }),
  error: (code: string, closeCode: number): Expected => ({ type: 'error', code, closeCode }),
  /** We wrote a frame; `description` as describeFrame (frames.ts) prints it. */
  write: (description: string | RegExp): Expected => ({ type: 'write', frame: description }),
  /** We wrote a pong (the auto-reply to a ping). */
  wrotePong: (data: Bytes = '', masked = false): Expected => ({ type: 'write', frame: `pong${masked ? ' masked' : ''} ${show(bytes(data))}` }),
  /** We wrote a close frame echoing `code` (no reason), or an empty one. */
  wroteClose: (code?: number, masked = false): Expected => ({
    type: 'write',
    frame: `close${masked ? ' masked' : ''} ${code === undefined ? '(empty)' : `${code} ""`}`
  }),
  /** We wrote the close frame that fails the connection with `closeCode` (any reason). */
  wroteFailure: (closeCode: number, masked = false): Expected => ({
    type: 'write',
    frame: new RegExp(`^close${masked ? ' masked' : ''} ${closeCode} "`)
  })
}

/** A close code and its failure: the frame we write, then the error event. */
export function failure (code: string, closeCode: number, masked = false): Expected[] {
  return [ev.wroteFailure(closeCode, masked), ev.error(code, closeCode)]
}

// --- Running the protocol -------------------------------------------------------------------

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
