import { WebSocketStateError } from '../protocol/index.js'
import type { ResolvedPerMessageDeflate } from './deflate-options.js'
import { HistoryWindow } from './history-window.js'
import { PENDING, type Pending } from './pending.js'
import { deflateMessageAsync, deflateMessageSync, type DeflateZlibSettings } from './raw-deflate.js'
import type { SharedMessageDeflate } from './shared-message-deflate.js'
import type { ZlibConcurrencyLimiter } from './zlib-concurrency.js'

/**
 * Messages up to this many bytes are compressed on the main thread. Measured
 * (bench/micro/deflate.js, JSON, zlib level 6, context takeover): 1 KiB takes about 15 µs
 * synchronously against a 60-160 µs round trip through the thread pool, which itself costs
 * the main thread about 40 µs (creating the zlib handle, the stream plumbing); at 4 KiB both
 * cost the main thread about 36 µs; at 16 KiB a sync deflate takes about 185 µs. Past 4 KiB
 * the thread pool is cheaper for everyone else on the event loop.
 */
export const SYNC_DEFLATE_MAX_INPUT = 4 * 1024

/**
 * With context takeover, the history handed to zlib as the dictionary is at most
 * max(this, 4 × message size) bytes. zlib hashes the whole dictionary before compressing
 * (about 1.3 µs per KiB), so a 1 KiB message with the full 32 KiB window costs 4× as much as
 * with 4 KiB of it, for a 5% smaller output on JSON. Using less of the window is always valid:
 * the peer keeps the whole window, we just refer back less far.
 */
export const DEFLATE_MIN_DICTIONARY = 4 * 1024

export interface MessageDeflaterOptions {
  /** Our compressor's window bits, 8..15 (`DeflateDirections.sendWindowBits`). */
  windowBits: number
  /** Whether we may refer to earlier messages (`DeflateDirections.sendContextTakeover`). */
  contextTakeover: boolean
  /** Messages below this many bytes are not worth compressing (`perMessageDeflate.threshold`). */
  threshold: number
  /** `ResolvedPerMessageDeflate.zlibDeflateOptions`. */
  zlib: DeflateZlibSettings
  limiter: ZlibConcurrencyLimiter
  /** @default SYNC_DEFLATE_MAX_INPUT (tests change it to force either path). */
  syncMaxInputBytes?: number
}

/** Builds the deflater options of one connection from the resolved option and the agreement. */
export function messageDeflaterOptions (
  resolved: ResolvedPerMessageDeflate,
  windowBits: number,
  contextTakeover: boolean,
  limiter: ZlibConcurrencyLimiter
): MessageDeflaterOptions {
  return { windowBits, contextTakeover, threshold: resolved.threshold, zlib: resolved.zlibDeflateOptions, limiter }
}

/** The payload to send with RSV1 set, or an Error if zlib failed (fail the connection, 1011). */
export type DeflateOutcome = Buffer | Error
export type DeflateCallback = (outcome: DeflateOutcome) => void

/** A message waiting for the one before it. */
interface QueuedMessage {
  data: Buffer | null
  shared: SharedMessageDeflate | null
  callback: DeflateCallback
}

type DeflaterState = 'idle' | 'busy' | 'closed'

/**
 * Compresses the messages of one connection's sending direction (RFC 7692 §7.2.1), in order.
 *
 * Results come back in the order the messages were given: a call made while an earlier one is
 * still PENDING is queued behind it and also returns PENDING, even if it is small. So the
 * caller writes each result when it gets it, and must hold every other data frame (compressed
 * or not) while `pending > 0`, so messages stay in order on the wire.
 *
 * No zlib handle lives between messages: with context takeover, the last bytes we sent are
 * kept (up to 2^windowBits) and given to zlib as a preset dictionary.
 */
export class MessageDeflater {
  /** Messages under this many bytes are sent uncompressed (see `shouldCompress`). */
  readonly threshold: number
  /** Our compressor's negotiated window bits. */
  readonly windowBits: number
  readonly zlib: DeflateZlibSettings
  readonly limiter: ZlibConcurrencyLimiter
  /**
   * Non-null when messages can be compressed once for all sockets with the same key
   * (`SharedMessageDeflate`, for publish): only without context takeover, where a message's
   * compressed form depends on the settings alone.
   */
  readonly sharingKey: string | null
  private readonly syncMaxInput: number
  private readonly history: HistoryWindow | null
  private state: DeflaterState = 'idle'
  private readonly queue: QueuedMessage[] = []
  private inFlight = 0

  constructor (options: MessageDeflaterOptions) {
    this.threshold = options.threshold
    this.windowBits = options.windowBits
    this.zlib = options.zlib
    this.limiter = options.limiter
    this.syncMaxInput = options.syncMaxInputBytes ?? SYNC_DEFLATE_MAX_INPUT
    this.history = options.contextTakeover ? new HistoryWindow(2 ** options.windowBits) : null
    const { level, memLevel, strategy } = options.zlib
    this.sharingKey = options.contextTakeover ? null : `w${options.windowBits} l${level} m${memLevel} s${strategy}`
  }

  /**
   * Whether a message of `byteLength` bytes should be compressed: at least `threshold`
   * (RFC 7692 §6: any message may be sent uncompressed, with RSV1 clear).
   */
  shouldCompress (byteLength: number): boolean {
    return byteLength >= this.threshold
  }

  /** Messages given to `deflate`/`deflateShared` whose result has not been returned or called back. */
  get pending (): number {
    return this.inFlight
  }

  /** Bytes this deflater holds between messages (the history window). */
  get retainedBytes (): number {
    return this.history === null ? 0 : this.history.retainedBytes
  }

  /**
   * Compresses one whole message. Returns the payload (to send with RSV1 set on its first
   * frame), or an Error, and then never calls `callback`; or returns PENDING and calls
   * `callback` exactly once later, in order with the other PENDING results, unless `close()`
   * comes first. `data` must not be changed until the result is in.
   */
  deflate (data: Buffer, callback: DeflateCallback): DeflateOutcome | Pending {
    return this.submit({ data, shared: null, callback })
  }

  /**
   * Sends a message compressed once for many sockets (`publish`), in order with this
   * deflater's other messages. Only for deflaters with a `sharingKey` (else a TypeError).
   */
  deflateShared (shared: SharedMessageDeflate, callback: DeflateCallback): DeflateOutcome | Pending {
    if (this.sharingKey === null) throw new TypeError('a deflater with context takeover cannot share compressed messages')
    return this.submit({ data: null, shared, callback })
  }

  /** Drops queued messages (their callbacks are never called) and the history. */
  close (): void {
    this.state = 'closed'
    this.queue.length = 0
    this.inFlight = 0
    this.history?.clear()
  }

  private submit (message: QueuedMessage): DeflateOutcome | Pending {
    if (this.state === 'closed') throw new WebSocketStateError('deflate() after close()')
    this.inFlight++
    if (this.state === 'busy') {
      this.queue.push(message)
      return PENDING
    }
    const outcome = this.process(message)
    if (outcome !== PENDING) this.inFlight--
    return outcome
  }

  /** Runs one message: returns its result now, or PENDING with the state set to busy. */
  private process (message: QueuedMessage): DeflateOutcome | Pending {
    if (message.shared !== null) {
      // The usual publish case (ready, or small) makes no closure.
      const now = message.shared.ready(this)
      if (now !== undefined) return now
      this.state = 'busy'
      return message.shared.deflate(this, (result) => { this.complete(result, message.callback) })
    }
    const data = message.data as Buffer
    const dictionary = this.history?.view(Math.max(DEFLATE_MIN_DICTIONARY, 4 * data.length))
    if (data.length <= this.syncMaxInput) {
      const outcome = deflateMessageSync(data, this.windowBits, this.zlib, dictionary)
      this.history?.append(data)
      return outcome
    }
    this.state = 'busy'
    const { windowBits, zlib: settings, history } = this
    this.limiter.run((release) => {
      if (this.state === 'closed') {
        release()
        return
      }
      deflateMessageAsync(data, windowBits, settings, dictionary, (outcome) => {
        release()
        this.complete(outcome, message.callback)
      })
      // The dictionary was copied when the job started: the window may move on now.
      history?.append(data)
    })
    return PENDING
  }

  /**
   * A PENDING message finished: report it, then run the queue until one is PENDING again. The
   * state stays busy throughout, so a `deflate` called from a callback queues behind the rest.
   */
  private complete (outcome: DeflateOutcome, callback: DeflateCallback): void {
    if (this.state === 'closed') return
    this.inFlight--
    callback(outcome)
    // close() empties the queue, so a callback that closes ends this loop.
    while (this.queue.length > 0) {
      const next = this.queue.shift() as QueuedMessage
      const result = this.process(next)
      if (result === PENDING) return
      this.inFlight--
      next.callback(result)
    }
    if (!this.closed) this.state = 'idle'
  }

  /** Read through a getter: a callback may have closed the deflater meanwhile. */
  private get closed (): boolean {
    return this.state === 'closed'
  }
}
