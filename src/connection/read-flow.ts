import type { Duplex } from 'node:stream'

/**
 * Every reason a connection may have to stop reading from its transport. Bits, so one
 * integer holds the whole set and a check is one comparison.
 */
export const PauseReason = {
  /** The application called `pause()`. */
  App: 1,
  /** An async iteration loop has fallen behind (its queue is full). */
  Iterator: 2,
  /** The handler is not ready yet: events are held until it is (see `holdEvents`). */
  Held: 4,
  /** Our replies to this peer are piling up in the transport (see `WRITE_BACKLOG_PAUSE`). */
  WriteBacklog: 8,
  /** A compressed message is being inflated: the next one waits, so order is kept. */
  Inflate: 16
} as const
export type PauseReason = (typeof PauseReason)[keyof typeof PauseReason]

/**
 * The one owner of "do we read from the transport now" (DESIGN.md: reading has one owner).
 * Each part of the connection adds and removes its own reason; the stream reads only when no
 * reason is left, or while closing (once our close frame is out, the peer's close frame must
 * be read whatever else asked for a pause, or every such close would wait out its timeout).
 * Nobody else pauses or resumes the stream.
 */
export class ReadFlow {
  private readonly stream: Duplex
  private reasonBits = 0
  private closing = false
  private flowing = false

  /**
   * Takes the stream over paused (so bytes can be put back with `unshift` before anything is
   * read); `apply()` then starts reading unless an `initial` reason holds it back.
   */
  constructor (stream: Duplex, initial = 0) {
    this.stream = stream
    this.reasonBits = initial
    stream.pause()
  }

  /** The set of reasons, as `PauseReason` bits; 0 when nothing holds reading back. */
  get reasons (): number {
    return this.reasonBits
  }

  has (reason: PauseReason): boolean {
    return (this.reasonBits & reason) !== 0
  }

  /** Whether the transport is being read: no reason is left, or we are closing. */
  get reading (): boolean {
    return this.closing || this.reasonBits === 0
  }

  /** Adds a reason to stop reading (idempotent). */
  add (reason: PauseReason): void {
    this.reasonBits |= reason
    this.apply()
  }

  /** Removes a reason. Returns true when that made reading resume. */
  remove (reason: PauseReason): boolean {
    if ((this.reasonBits & reason) === 0) return false
    this.reasonBits &= ~reason
    return this.apply()
  }

  /** Our close frame is out: read until the peer's close frame, whatever the reasons. */
  startClosing (): boolean {
    if (this.closing) return false
    this.closing = true
    return this.apply()
  }

  /** Pauses or resumes the stream to match; returns true when it was resumed. */
  apply (): boolean {
    const reading = this.reading
    if (reading === this.flowing) return false
    this.flowing = reading
    if (reading) this.stream.resume()
    else this.stream.pause()
    return reading
  }
}
