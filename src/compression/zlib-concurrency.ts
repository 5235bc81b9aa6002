/**
 * A bound on zlib jobs running in Node's thread pool at once, with a FIFO queue for the rest.
 *
 * Async zlib work runs in libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says
 * otherwise), which `fs`, `dns.lookup` and `crypto` share. Without a bound, many peers sending
 * large compressed messages at once would queue unbounded work there and starve file and DNS
 * I/O. A job here is one whole message; each connection has at most one job queued or running
 * per direction, so the queue is bounded by the number of connections.
 *
 * One limiter per plugin instance (and one shared by clients made without a plugin): the
 * `concurrencyLimit` a user sets is then exactly what applies to their routes, and nothing is
 * decided by whichever instance happened to load first, as with a process-wide singleton.
 */
export class ZlibConcurrencyLimiter {
  /** Jobs allowed to run at once. */
  readonly limit: number
  private running = 0
  private readonly waiting: Array<(release: () => void) => void> = []
  private head = 0

  /**
   * @param limit positive integer, or Infinity for no bound (not recommended on a public
   *   server). Throws a RangeError otherwise.
   */
  constructor (limit: number) {
    if (limit !== Infinity && (!Number.isSafeInteger(limit) || limit < 1)) {
      throw new RangeError(`concurrencyLimit must be a positive integer or Infinity, got ${String(limit)}`)
    }
    this.limit = limit
  }

  /** Jobs started and not yet released. */
  get active (): number {
    return this.running
  }

  /** Jobs waiting for a slot. */
  get queued (): number {
    return this.waiting.length - this.head
  }

  /**
   * Runs `job` now if a slot is free, else when one frees up (first come, first served). The
   * job must call `release` exactly once when its zlib work is over (extra calls are ignored).
   * A job is never started synchronously from inside another job's `release`: it starts on a
   * microtask, so a completion callback can finish its own work first.
   */
  run (job: (release: () => void) => void): void {
    if (this.running < this.limit) {
      this.start(job)
      return
    }
    this.waiting.push(job)
  }

  private start (job: (release: () => void) => void): void {
    this.running++
    let released = false
    job(() => {
      if (released) return
      released = true
      this.running--
      if (this.queued > 0) queueMicrotask(() => this.next())
    })
  }

  private next (): void {
    while (this.running < this.limit && this.queued > 0) {
      const job = this.waiting[this.head] as (release: () => void) => void
      this.waiting[this.head] = undefined as never
      this.head++
      if (this.head === this.waiting.length) {
        this.waiting.length = 0
        this.head = 0
      }
      this.start(job)
    }
  }
}
