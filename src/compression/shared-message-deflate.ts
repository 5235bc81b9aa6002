import { SYNC_DEFLATE_MAX_INPUT, type DeflateCallback, type DeflateOutcome, type MessageDeflater } from './message-deflater.js'
import { PENDING, type Pending } from './pending.js'
import { deflateMessageAsync, deflateMessageSync } from './raw-deflate.js'

type Entry =
  | { state: 'done', outcome: DeflateOutcome }
  | { state: 'running', waiting: DeflateCallback[] }

/**
 * One message compressed once for every socket that would compress it identically (the
 * shared compressor of uWebSockets): sockets without context takeover for what we send, with
 * the same window and zlib settings (`MessageDeflater.sharingKey`). For `publish` to a topic
 * with thousands of subscribers, that is one deflate instead of thousands.
 *
 * Use one instance per published message, through `MessageDeflater.deflateShared`, which
 * keeps the message in order with the socket's own sends.
 */
export class SharedMessageDeflate {
  /** The uncompressed message. Must not change until every socket has its result. */
  readonly data: Buffer
  private readonly entries = new Map<string, Entry>()

  constructor (data: Buffer) {
    this.data = data
  }

  /** Distinct compressions made so far (one per sharing key): for tests and metrics. */
  get compressions (): number {
    return this.entries.size
  }

  /**
   * The result for `deflater`'s settings if it is ready or cheap enough to make now (small
   * messages are compressed on the main thread), else undefined. No callback, no allocation
   * beyond the compression itself: the common case of `publish` to many sockets.
   */
  ready (deflater: MessageDeflater): DeflateOutcome | undefined {
    const key = sharingKeyOf(deflater)
    const entry = this.entries.get(key)
    if (entry !== undefined) return entry.state === 'done' ? entry.outcome : undefined
    if (this.data.length > SYNC_DEFLATE_MAX_INPUT) return undefined
    const outcome = deflateMessageSync(this.data, deflater.windowBits, deflater.zlib)
    this.entries.set(key, { state: 'done', outcome })
    return outcome
  }

  /**
   * The message compressed with `deflater`'s settings: returned at once when `ready` has it
   * (the callback is then not called), else PENDING and the callback is called once, later.
   * Called by `MessageDeflater.deflateShared`.
   */
  deflate (deflater: MessageDeflater, callback: DeflateCallback): DeflateOutcome | Pending {
    const now = this.ready(deflater)
    if (now !== undefined) return now
    const key = sharingKeyOf(deflater)
    // Not ready: either being compressed for another socket, or not started.
    const entry = this.entries.get(key) as Extract<Entry, { state: 'running' }> | undefined
    if (entry !== undefined) {
      entry.waiting.push(callback)
      return PENDING
    }
    const running: Entry = { state: 'running', waiting: [callback] }
    this.entries.set(key, running)
    const { windowBits, zlib: settings } = deflater
    deflater.limiter.run((release) => {
      deflateMessageAsync(this.data, windowBits, settings, undefined, (outcome) => {
        release()
        this.entries.set(key, { state: 'done', outcome })
        for (const waiting of running.waiting) waiting(outcome)
      })
    })
    return PENDING
  }
}

function sharingKeyOf (deflater: MessageDeflater): string {
  const key = deflater.sharingKey
  if (key === null) throw new TypeError('a deflater with context takeover cannot share compressed messages')
  return key
}
