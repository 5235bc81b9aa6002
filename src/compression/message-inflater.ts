import { constants as bufferConstants, isUtf8 } from 'node:buffer'
import zlib from 'node:zlib'
import {
  Utf8Validator,
  WebSocketStateError,
  invalidUtf8,
  messageTooBig,
  type WebSocketProtocolError
} from '../protocol/index.js'
import { decompressionFailed, invalidCompressedData } from './compression-errors.js'
import { DEFAULT_ZLIB_CHUNK_SIZE } from './deflate-options.js'
import { HistoryWindow } from './history-window.js'
import { PENDING, type Pending } from './pending.js'
import { DEFLATE_TAIL } from './raw-deflate.js'
import type { ZlibConcurrencyLimiter } from './zlib-concurrency.js'

/**
 * Compressed messages up to this many bytes are inflated on the main thread. Measured
 * (bench/micro/deflate.js, JSON, context takeover): inflating 1 KiB takes about 6 µs
 * synchronously against a 40-80 µs round trip through the thread pool that itself costs the
 * main thread 35-55 µs; 64 KiB of JSON (11 KiB compressed) inflates in about 52 µs, still less
 * than the thread pool's main-thread cost. 16 KiB of input is about 100 KiB of JSON.
 */
export const SYNC_INFLATE_MAX_INPUT = 16 * 1024

/**
 * A synchronous inflate stops at this many output bytes and the message is inflated again in
 * the thread pool, chunk by chunk. Bounds the main thread's work per message (about 130 µs at
 * about 1 µs per KiB produced) and what is produced before size and UTF-8 are checked,
 * whatever the input's compression ratio (up to 1032:1 for DEFLATE).
 */
export const SYNC_INFLATE_MAX_OUTPUT = 128 * 1024

/**
 * The most bytes a compressed message may take on the wire when its decompressed size is at
 * most `maxMessageSize`: DEFLATE can expand incompressible data slightly (stored blocks add
 * 5 bytes per 64 KiB; zlib's deflateBound allows n/4096 + n/16384 + n/2^25 + 13). Use it as the
 * early, length-field check for messages with RSV1 set, so a legitimate incompressible message
 * of exactly maxMessageSize is not refused for its compressed size.
 */
export function maxCompressedPayloadSize (maxMessageSize: number): number {
  if (maxMessageSize === Infinity) return Infinity
  const n = maxMessageSize
  return n + Math.floor(n / 4096) + Math.floor(n / 16384) + Math.floor(n / 33554432) + 13
}

export interface MessageInflaterOptions {
  /** The peer compressor's window bits, 8..15 (`DeflateDirections.receiveWindowBits`). */
  windowBits: number
  /** Whether the peer may refer to earlier messages (`DeflateDirections.receiveContextTakeover`). */
  contextTakeover: boolean
  /** Largest decompressed message, in bytes, or Infinity. Over it: 1009. */
  maxMessageSize: number
  /** Bounds thread-pool jobs across connections. */
  limiter: ZlibConcurrencyLimiter
  /** zlib output chunk for thread-pool inflates (`zlibInflateOptions.chunkSize`). @default 16384 */
  chunkSize?: number
  /** @default SYNC_INFLATE_MAX_INPUT (tests lower it to force the thread-pool path). */
  syncMaxInputBytes?: number
  /** @default SYNC_INFLATE_MAX_OUTPUT */
  syncMaxOutputBytes?: number
}

/** A message's decompressed payload, or why the connection must fail. */
export type InflateOutcome = Buffer | WebSocketProtocolError
export type InflateCallback = (outcome: InflateOutcome) => void

/** Marker for "the sync attempt produced too much: go to the thread pool". */
const TOO_MUCH_FOR_SYNC = Symbol('too much for sync')

type InflaterState = 'idle' | 'busy' | 'closed'

const MAX_LENGTH = bufferConstants.MAX_LENGTH

/**
 * Decompresses the messages of one connection's receiving direction (RFC 7692 §7.2.2), one at
 * a time, with the decompressed size limited and text validated as it is produced.
 *
 * No zlib handle lives between messages: each message is one zlib call, with the last
 * 2^windowBits bytes of earlier messages as a preset dictionary when context takeover is in
 * force (the state a long-lived stream would hold, and nothing else). Small messages are
 * inflated synchronously; large ones in the thread pool, through the limiter, chunk by chunk.
 */
export class MessageInflater {
  private readonly windowBits: number
  private readonly maxMessageSize: number
  private readonly limiter: ZlibConcurrencyLimiter
  private readonly chunkSize: number
  private readonly syncMaxInput: number
  private readonly syncMaxOutput: number
  /** The peer's sliding window; null without context takeover. */
  private readonly history: HistoryWindow | null
  private state: InflaterState = 'idle'

  constructor (options: MessageInflaterOptions) {
    this.windowBits = options.windowBits
    this.maxMessageSize = options.maxMessageSize
    this.limiter = options.limiter
    this.chunkSize = options.chunkSize ?? DEFAULT_ZLIB_CHUNK_SIZE
    this.syncMaxInput = options.syncMaxInputBytes ?? SYNC_INFLATE_MAX_INPUT
    this.syncMaxOutput = options.syncMaxOutputBytes ?? SYNC_INFLATE_MAX_OUTPUT
    this.history = options.contextTakeover ? new HistoryWindow(2 ** options.windowBits) : null
  }

  /** A message is being inflated in the thread pool. */
  get busy (): boolean {
    return this.state === 'busy'
  }

  /** Bytes this inflater holds between messages (the history window). */
  get retainedBytes (): number {
    return this.history === null ? 0 : this.history.retainedBytes
  }

  /**
   * Decompresses one message: the payloads of its frames in order (RSV1 was set on the first),
   * without the `00 00 ff ff` tail, which is restored here (RFC 7692 §7.2.2).
   *
   * Returns the decompressed payload, or a WebSocketProtocolError (1009 when it exceeds
   * maxMessageSize, 1007 for invalid DEFLATE data or invalid UTF-8 in text), and then never
   * calls `callback`. Or returns PENDING and calls `callback` exactly once, later, with the
   * outcome, unless `close()` is called first. While PENDING, the caller must not call
   * `inflate` again (it throws a WebSocketStateError): stop reading until the callback.
   *
   * The payload buffers are only read; the result never shares memory with them.
   */
  inflate (payload: Buffer | readonly Buffer[], isText: boolean, callback: InflateCallback): InflateOutcome | Pending {
    if (this.state !== 'idle') throw new WebSocketStateError(`inflate() while the inflater is ${this.state}`)
    const pieces: readonly Buffer[] = Buffer.isBuffer(payload) ? [payload] : payload
    let total = 0
    for (const piece of pieces) total += piece.length
    const dictionary = this.history?.view()
    if (total <= this.syncMaxInput) {
      const outcome = this.inflateSync(pieces, total, isText, dictionary)
      if (outcome !== TOO_MUCH_FOR_SYNC) {
        if (Buffer.isBuffer(outcome)) this.history?.append(outcome)
        return outcome
      }
    }
    this.state = 'busy'
    this.limiter.run((release) => {
      if (this.state === 'closed') {
        release()
        return
      }
      // Node copies the dictionary when the stream is created, here.
      const job = new StreamingInflate(this, pieces, isText, dictionary, release, callback)
      job.start()
    })
    return PENDING
  }

  /**
   * Forgets the history and drops a message in progress (its callback is never called). For
   * a connection that is going away; the inflater cannot be used again.
   */
  close (): void {
    this.state = 'closed'
    this.history?.clear()
  }

  private inflateSync (pieces: readonly Buffer[], total: number, isText: boolean, dictionary: Buffer | undefined): InflateOutcome | typeof TOO_MUCH_FOR_SYNC {
    // RFC 7692 §7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload".
    // One small copy, which also joins the fragments.
    const input = Buffer.allocUnsafe(total + 4)
    let offset = 0
    for (const piece of pieces) offset += piece.copy(input, offset)
    DEFLATE_TAIL.copy(input, offset)
    const cap = Math.min(this.maxMessageSize, this.syncMaxOutput)
    let output: Buffer
    try {
      output = zlib.inflateRawSync(input, {
        windowBits: this.windowBits,
        // Output chunks sized to the likely message (text deflates about 4:1), so a small
        // message does not pin a 16 KiB buffer for as long as the application keeps it.
        chunkSize: Math.min(this.chunkSize, Math.max(1024, total * 4)),
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        // zlib stops, and throws, as soon as more than this was produced (Node accepts 1 to
        // buffer.constants.MAX_LENGTH; with no limit at all, the largest Buffer is the bound).
        maxOutputLength: Math.min(Math.max(1, cap), MAX_LENGTH),
        ...(dictionary === undefined ? {} : { dictionary })
      })
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
        return cap >= this.maxMessageSize ? this.tooBig() : TOO_MUCH_FOR_SYNC
      }
      return zlibFailure(error)
    }
    if (output.length > this.maxMessageSize) return this.tooBig()
    if (isText && !isUtf8(output)) return invalidUtf8()
    return output
  }

  /** @internal RFC 6455 §7.4.1: 1009, a message too big to process (counted decompressed). */
  tooBig (): WebSocketProtocolError {
    return messageTooBig()
  }

  /** @internal Called once by the streaming job. */
  finishAsync (outcome: InflateOutcome, callback: InflateCallback): void {
    if (this.state === 'closed') return
    this.state = 'idle'
    if (Buffer.isBuffer(outcome)) this.history?.append(outcome)
    callback(outcome)
  }

  /** @internal Settings the streaming job needs. */
  get streamSettings (): { windowBits: number, chunkSize: number, maxMessageSize: number } {
    return { windowBits: this.windowBits, chunkSize: this.chunkSize, maxMessageSize: this.maxMessageSize }
  }
}

/**
 * One message inflated in the thread pool through a short-lived zlib stream, checked after
 * every output chunk: the size limit (so a bomb stops within a chunk of the limit, however
 * much it would expand) and, for text, UTF-8 (so an invalid sequence fails without inflating
 * the rest).
 */
class StreamingInflate {
  private readonly chunks: Buffer[] = []
  private produced = 0
  private settled = false
  private readonly validator: Utf8Validator | null
  private readonly stream: zlib.InflateRaw

  constructor (
    private readonly owner: MessageInflater,
    private readonly pieces: readonly Buffer[],
    isText: boolean,
    dictionary: Buffer | undefined,
    private readonly release: () => void,
    private readonly callback: InflateCallback
  ) {
    const { windowBits, chunkSize } = owner.streamSettings
    this.validator = isText ? new Utf8Validator() : null
    this.stream = zlib.createInflateRaw({ windowBits, chunkSize, ...(dictionary === undefined ? {} : { dictionary }) })
  }

  start (): void {
    const stream = this.stream
    stream.on('data', (chunk: Buffer) => { this.onData(chunk) })
    stream.on('error', (error) => { this.settle(zlibFailure(error)) })
    for (const piece of this.pieces) stream.write(piece)
    // RFC 7692 §7.2.2: restore the tail the sender stripped.
    stream.write(DEFLATE_TAIL)
    stream.flush(zlib.constants.Z_SYNC_FLUSH, () => { this.onFlushed() })
  }

  private onData (chunk: Buffer): void {
    // A destroyed zlib stream emits nothing more; kept in case a chunk was already queued.
    /* c8 ignore next */
    if (this.settled) return
    this.produced += chunk.length
    const { maxMessageSize } = this.owner.streamSettings
    if (this.produced > maxMessageSize) {
      this.settle(this.owner.tooBig())
      return
    }
    // RFC 6455 §8.1: fail as soon as the text cannot be valid UTF-8.
    if (this.validator !== null && !this.validator.write(chunk)) {
      this.settle(invalidUtf8())
      return
    }
    this.chunks.push(chunk)
  }

  private onFlushed (): void {
    if (this.settled) return
    if (this.validator?.incomplete === true) {
      this.settle(invalidUtf8())
      return
    }
    const chunks = this.chunks
    let message: Buffer
    if (chunks.length === 1) message = chunks[0] as Buffer
    else message = Buffer.concat(chunks, this.produced) // the one join, at the message's end
    this.settle(message)
  }

  private settle (outcome: InflateOutcome): void {
    // Each path settles once and destroys the stream; guards a zlib error after the flush.
    /* c8 ignore next */
    if (this.settled) return
    this.settled = true
    this.chunks.length = 0
    // Stops the stream: at most the chunk being produced in the pool finishes.
    this.stream.destroy()
    this.release()
    this.owner.finishAsync(outcome, this.callback)
  }
}

/**
 * A zlib error about the data (Z_DATA_ERROR, Z_BUF_ERROR...) is the peer's fault: 1007. Any
 * other failure (Z_MEM_ERROR, or an error that is not zlib's) is ours: 1011, no detail sent.
 */
function zlibFailure (error: unknown): WebSocketProtocolError {
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && code.startsWith('Z_') && code !== 'Z_MEM_ERROR') return invalidCompressedData()
  /* c8 ignore start: out of memory cannot be provoked in a test */
  return decompressionFailed()
}
/* c8 ignore stop */
