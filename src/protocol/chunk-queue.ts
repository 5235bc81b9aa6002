/**
 * The bytes received but not yet parsed, kept as the chunks they arrived in.
 *
 * Reads hand out `subarray` views of the first chunk; they copy only when a read straddles
 * two chunks, which for header fields means a few bytes at most.
 */
export class ChunkQueue {
  private chunks: Buffer[] = []
  /** Bytes of `chunks[0]` already consumed. */
  private headOffset = 0
  /** Unconsumed bytes across all chunks. */
  length = 0

  push (chunk: Buffer): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.length += chunk.length
  }

  /** Drops everything (after the connection failed or closed, input is discarded). */
  clear (): void {
    this.chunks = []
    this.headOffset = 0
    this.length = 0
  }

  /** The byte at `index` from the read position. Caller guarantees `index < length`. */
  byteAt (index: number): number {
    let chunk = this.chunks[0]
    let position = this.headOffset + index
    let c = 0
    while (position >= chunk.length) {
      position -= chunk.length
      chunk = this.chunks[++c]
    }
    return chunk[position]
  }

  /** Consumes `count` bytes. Caller guarantees `count <= length`. */
  skip (count: number): void {
    this.length -= count
    while (count > 0) {
      const head = this.chunks[0]
      const available = head.length - this.headOffset
      if (count < available) {
        this.headOffset += count
        return
      }
      count -= available
      this.chunks.shift()
      this.headOffset = 0
    }
  }

  /**
   * Consumes exactly `count` bytes and returns them: a view when they lie in one chunk,
   * otherwise a fresh copy. Caller guarantees `count <= length`.
   */
  take (count: number): Buffer {
    // An empty control frame often ends the input, leaving no chunk to take a view of.
    if (count === 0) return EMPTY
    const head = this.chunks[0]
    if (this.headOffset + count <= head.length) return this.takeFromHead(count)
    const out = Buffer.allocUnsafe(count)
    let filled = 0
    while (filled < count) {
      const piece = this.takeUpTo(count - filled)
      out.set(piece, filled)
      filled += piece.length
    }
    return out
  }

  /**
   * Consumes up to `count` bytes from the first chunk only and returns them as a view (never
   * copies). Returns an empty view when the queue is empty.
   */
  takeUpTo (count: number): Buffer {
    if (this.length === 0) return EMPTY
    const head = this.chunks[0]
    return this.takeFromHead(Math.min(count, head.length - this.headOffset))
  }

  private takeFromHead (count: number): Buffer {
    const head = this.chunks[0]
    const start = this.headOffset
    const end = start + count
    this.length -= count
    if (end === head.length) {
      this.chunks.shift()
      this.headOffset = 0
      // The whole remaining chunk: hand it out without creating a view.
      if (start === 0) return head
    } else {
      this.headOffset = end
    }
    return head.subarray(start, end)
  }
}

const EMPTY = Buffer.alloc(0)
