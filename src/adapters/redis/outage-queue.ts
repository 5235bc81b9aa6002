/** One message waiting for Redis: its channel and its envelope (the adapter's own copy). */
export interface QueuedMessage {
  channel: string
  envelope: Buffer
}

/**
 * The messages published while Redis could not take them, bounded in count and bytes. When a
 * new message does not fit, the oldest ones make room: after an outage the other instances get
 * the most recent messages, in order, and the gap sits where the outage was. A message bigger
 * than the whole byte budget is refused.
 */
export class OutageQueue {
  private items: Array<QueuedMessage | undefined> = []
  private head = 0
  private byteCount = 0
  readonly maxMessages: number
  readonly maxBytes: number

  constructor (maxMessages: number, maxBytes: number) {
    this.maxMessages = maxMessages
    this.maxBytes = maxBytes
  }

  get length (): number {
    return this.items.length - this.head
  }

  /** Bytes of the envelopes held. */
  get bytes (): number {
    return this.byteCount
  }

  /**
   * Adds a message at the tail. Returns how many messages were dropped to make it fit:
   * evicted old ones, plus 1 if the message itself could not be held.
   */
  push (message: QueuedMessage): number {
    const size = message.envelope.length
    if (this.maxMessages === 0 || size > this.maxBytes) return 1
    let dropped = 0
    while (this.length >= this.maxMessages || this.byteCount + size > this.maxBytes) {
      this.shift()
      dropped++
    }
    this.items.push(message)
    this.byteCount += size
    return dropped
  }

  /** Removes and returns the oldest message, if any. */
  shift (): QueuedMessage | undefined {
    if (this.head === this.items.length) return undefined
    const message = this.items[this.head]
    this.items[this.head++] = undefined
    if (message !== undefined) this.byteCount -= message.envelope.length
    // Compact once the consumed prefix is half the array: amortised O(1) per message.
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return message
  }

  /** Empties the queue; returns how many messages it held. */
  clear (): number {
    const count = this.length
    this.items = []
    this.head = 0
    this.byteCount = 0
    return count
  }
}
