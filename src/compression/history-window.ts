/**
 * The last bytes of a compressed direction's plaintext, kept for context takeover
 * (RFC 7692 §7.2.1, §7.2.2): the LZ77 sliding window a peer's compressor may refer back into.
 *
 * Keeping the window ourselves, instead of a long-lived zlib stream, is what lets every
 * message be (de)compressed by a one-shot zlib call with the window as a preset dictionary
 * (RFC 1951 distances reach into it exactly as into a stream's window): synchronously when
 * small, in the thread pool when large, with no zlib handle held between messages. The buffer
 * is allocated on the first message and sized to it (at least 4 KiB), then to `capacity`,
 * so a connection that sent a few small messages holds a small buffer.
 */
/** The smallest first buffer: most messages fit, and a second allocation is rare. */
const FIRST_BUFFER_BYTES = 4096

export class HistoryWindow {
  /** Most bytes kept: 2^windowBits. */
  readonly capacity: number
  private buffer: Buffer | null = null
  private filled = 0

  constructor (capacity: number) {
    this.capacity = capacity
  }

  /** Bytes currently kept. */
  get length (): number {
    return this.filled
  }

  /** Bytes of memory held (the buffer's size, which may exceed `length`). */
  get retainedBytes (): number {
    return this.buffer === null ? 0 : this.buffer.length
  }

  /** The last `min(length, maxBytes)` bytes, as a view; undefined when empty. */
  view (maxBytes = Infinity): Buffer | undefined {
    if (this.filled === 0) return undefined
    const size = Math.min(this.filled, maxBytes)
    return (this.buffer as Buffer).subarray(this.filled - size, this.filled)
  }

  /** Appends a message's plaintext, dropping what falls out of the window. Copies. */
  append (data: Uint8Array): void {
    const n = data.length
    if (n === 0) return
    const capacity = this.capacity
    if (n >= capacity) {
      const buffer = this.ensure(capacity, false)
      buffer.set(data.subarray(n - capacity))
      this.filled = capacity
      return
    }
    const total = this.filled + n
    if (total <= capacity) {
      this.ensure(total, true).set(data, this.filled)
      this.filled = total
      return
    }
    const keep = capacity - n
    const buffer = this.ensure(capacity, true)
    buffer.copyWithin(0, this.filled - keep, this.filled)
    buffer.set(data, keep)
    this.filled = capacity
  }

  /** Forgets everything and frees the buffer. */
  clear (): void {
    this.buffer = null
    this.filled = 0
  }

  /**
   * A buffer of at least `size` bytes, keeping content if asked. Two sizes only: a first
   * buffer fitted to the first message (at least 4 KiB), then the full window. Growing by
   * doubling instead left freed 1, 2, 8, 16 KiB buffers between live windows: measured, the
   * process then held 100 KiB of RSS per connection for 64 KiB of windows, against 56-71 KiB.
   */
  private ensure (size: number, keepContent: boolean): Buffer {
    const current = this.buffer
    if (current !== null && current.length >= size) return current
    const grown = current === null ? Math.min(this.capacity, Math.max(size, FIRST_BUFFER_BYTES)) : this.capacity
    // allocUnsafeSlow: a long-lived buffer must not pin a shared 8 KiB pool slab.
    const next = Buffer.allocUnsafeSlow(grown)
    if (keepContent && current !== null) current.copy(next, 0, 0, this.filled)
    this.buffer = next
    return next
  }
}
