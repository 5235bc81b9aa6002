import type { Duplex } from 'node:stream'
import type { FrameOutput } from '../protocol/index.js'

type WriteCallback = (error?: Error | null) => void

/** Told after each flush, so it can look at the transport's backlog. */
export interface FlushObserver {
  afterFlush (): void
}

/**
 * Chunks up to this size are copied together; larger ones (a big payload, or one shared by
 * every subscriber of a topic) are written as they are, never copied.
 */
const JOIN_LIMIT = 1024

/**
 * Bounds of the per-tick batch for small frames. Under 4 KiB, `Buffer.allocUnsafe` slices
 * Node's shared pool (no allocation of its own); a busier tick gets up to 64 KiB.
 */
const MIN_BATCH = 512
const MAX_BATCH = 64 * 1024

/**
 * Writes frames to the transport, everything written in one tick as one system call. Chunks
 * are collected and flushed on `process.nextTick`: runs of small chunks are joined into one
 * buffer (copying a 70-byte frame costs far less than a `stream.write()` each) and large
 * chunks are passed through untouched, all inside one cork, so the tick's frames leave as a
 * single write or writev. The `write()` path, not the codec, is the cost of small messages.
 *
 * It is the protocol's `FrameOutput`: the connection puts a send's callback in `nextCallback`
 * before the command, and it goes with the frame's last chunk.
 */
export class SocketWriter implements FrameOutput {
  private readonly stream: Duplex
  private readonly observer: FlushObserver | undefined
  private pending: Buffer[] = []
  private pendingBytes = 0
  private callbacks: WriteCallback[] | null = null
  private scheduled = false
  /**
   * This tick's shared buffer for small frames (`reserve`): frames are written into it back to
   * back and leave as one chunk, so a small message costs no allocation and one copy. Dropped
   * at each flush: an idle connection holds none.
   */
  private batch: Buffer | null = null
  /** Start of the batch's bytes not yet moved to `pending`. */
  private batchStart = 0
  /** Where the next reserved frame goes in `batch`. */
  reservedAt = 0
  /** Bytes reserved since the last flush: sizes the next tick's batch. */
  private tickBytes = 0
  private batchSize = MIN_BATCH
  /** The callback for the frame being written now; taken by its last chunk. */
  nextCallback: WriteCallback | undefined = undefined

  constructor (stream: Duplex, observer?: FlushObserver) {
    this.stream = stream
    this.observer = observer
  }

  /** Queues a chunk for this tick's write. */
  write (chunk: Buffer, endOfFrame: boolean): void {
    this.sealBatch()
    this.pending.push(chunk)
    this.pendingBytes += chunk.length
    this.frameWritten(endOfFrame)
  }

  /** FrameOutput: room for a whole small frame in this tick's batch (see `batch`). */
  reserve (size: number): Buffer {
    const batch = this.batch
    if (batch !== null && batch.length - this.reservedAt >= size) return batch
    this.sealBatch()
    // Sized to what the last tick wrote; small sizes come from Node's shared pool.
    const fresh = this.batch = Buffer.allocUnsafe(Math.max(size, this.batchSize))
    this.batchStart = this.reservedAt = 0
    return fresh
  }

  /** FrameOutput: the `size` bytes written at `reservedAt` are a whole frame. */
  commit (size: number): void {
    this.reservedAt += size
    this.pendingBytes += size
    this.tickBytes += size
    this.frameWritten(true)
  }

  private frameWritten (endOfFrame: boolean): void {
    if (endOfFrame && this.nextCallback !== undefined) {
      (this.callbacks ??= []).push(this.nextCallback)
      this.nextCallback = undefined
    }
    if (!this.scheduled) {
      this.scheduled = true
      // A shared function and an argument, not a closure per writer: idle memory counts.
      process.nextTick(flushOnTick, this)
    }
  }

  /** Moves the batch's filled bytes into `pending`, as one chunk, in order. */
  private sealBatch (): void {
    if (this.batch === null || this.reservedAt === this.batchStart) return
    this.pending.push(this.batch.subarray(this.batchStart, this.reservedAt))
    this.batchStart = this.reservedAt
  }

  /** Hands everything queued to the stream now (before `end()`, say). */
  flush (): void {
    this.scheduled = false
    this.sealBatch()
    this.batch = null
    if (this.tickBytes > 0) {
      this.batchSize = Math.min(MAX_BATCH, Math.max(MIN_BATCH, this.tickBytes))
      this.tickBytes = 0
    }
    const pending = this.pending
    const count = pending.length
    if (count === 0) return
    const callback = this.takeCallback()
    this.pending = []
    this.pendingBytes = 0
    if (this.stream.destroyed || this.stream.writableEnded) {
      if (callback !== undefined) process.nextTick(callback, new Error('the connection was closed before the data was written'))
      return
    }
    if (count === 1) {
      this.stream.write(pending[0], callback)
    } else {
      this.writeAll(pending, count, callback)
    }
    this.observer?.afterFlush()
  }

  /** Bytes accepted but not yet handed to the operating system (ours and the stream's). */
  get bufferedAmount (): number {
    return this.stream.writableLength + this.pendingBytes
  }

  /** Whether the stream's buffer is over its high-water mark (wait for 'drain'). */
  get needsDrain (): boolean {
    return this.stream.writableNeedDrain || this.bufferedAmount >= this.stream.writableHighWaterMark
  }

  private writeAll (pending: Buffer[], count: number, callback: WriteCallback | undefined): void {
    this.stream.cork()
    let runStart = 0
    let runBytes = 0
    for (let i = 0; i <= count; i++) {
      const chunk = i < count ? pending[i] : undefined
      if (chunk !== undefined && chunk.length <= JOIN_LIMIT) {
        runBytes += chunk.length
        continue
      }
      // A run of small chunks ends here: write it as one buffer.
      if (i > runStart) this.stream.write(join(pending, runStart, i, runBytes), i === count ? callback : undefined)
      if (chunk !== undefined) this.stream.write(chunk, i === count - 1 ? callback : undefined)
      runStart = i + 1
      runBytes = 0
    }
    this.stream.uncork()
  }

  private takeCallback (): WriteCallback | undefined {
    const callbacks = this.callbacks
    if (callbacks === null) return undefined
    this.callbacks = null
    if (callbacks.length === 1) return callbacks[0]
    return (error) => { for (const callback of callbacks) callback(error) }
  }
}

function join (chunks: Buffer[], start: number, end: number, total: number): Buffer {
  if (end - start === 1) return chunks[start]
  const joined = Buffer.allocUnsafe(total)
  let offset = 0
  for (let i = start; i < end; i++) {
    chunks[i].copy(joined, offset)
    offset += chunks[i].length
  }
  return joined
}

function flushOnTick (writer: SocketWriter): void {
  writer.flush()
}
