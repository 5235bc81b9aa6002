import type { RedisClientLike } from './redis-client.js'

/** Channels per SUBSCRIBE command when resubscribing many topics at once. */
const SUBSCRIBE_BATCH = 1000

/**
 * The topics this instance has local subscribers for, and keeping the subscriber connection
 * subscribed to exactly their channels: one (S)SUBSCRIBE when a topic's first local socket
 * arrives, one (S)UNSUBSCRIBE when its last one leaves, and a resynchronisation each time the
 * connection becomes ready again. While the connection is down nothing is sent: the set is
 * the truth, and the next resynchronisation applies it.
 */
export class ChannelSubscriptions {
  /** Topics with local subscribers, keyed by channel name (the lookup each message needs). */
  private readonly topics = new Map<string, string>()
  /** Topics the connection is subscribed to, as far as our commands go. */
  private readonly active = new Set<string>()
  private subscriber: RedisClientLike | undefined
  private readonly prefix: string
  private readonly sharded: boolean
  /** Called when Redis refuses a command (the connection may also just have dropped: the caller tells). */
  private readonly onRefused: (error: Error, command: 'subscribe' | 'unsubscribe', topics: string[]) => void

  constructor (prefix: string, sharded: boolean, onRefused: ChannelSubscriptions['onRefused']) {
    this.prefix = prefix
    this.sharded = sharded
    this.onRefused = onRefused
  }

  /** Number of topics with local subscribers. */
  get size (): number {
    return this.topics.size
  }

  /** Whether commands go to the connection now (it was seen ready and resynchronised). */
  get live (): boolean {
    return this.subscriber !== undefined
  }

  /** The topic a channel carries, if this instance has local subscribers for it. */
  topicOf (channel: string): string | undefined {
    return this.topics.get(channel)
  }

  /** A topic's first local subscriber arrived. */
  add (topic: string): void {
    const channel = this.prefix + topic
    if (this.topics.has(channel)) return
    this.topics.set(channel, topic)
    if (this.live) this.subscribe([topic])
  }

  /** A topic's last local subscriber left. */
  remove (topic: string): void {
    if (!this.topics.delete(this.prefix + topic)) return
    if (this.live) this.unsubscribe([topic])
  }

  /**
   * The connection became ready: subscribe every topic with local subscribers, unsubscribe
   * those left while it was down. A standalone connection gets the whole set (SUBSCRIBE is
   * idempotent, and the adapter's own connections come back empty); a Cluster restores its
   * channels itself, so it gets only the difference (ioredis would otherwise track duplicates).
   */
  connected (subscriber: RedisClientLike): void {
    this.subscriber = subscriber
    const toSubscribe: string[] = []
    for (const topic of this.topics.values()) {
      if (subscriber.isCluster !== true || !this.active.has(topic)) toSubscribe.push(topic)
    }
    const toUnsubscribe: string[] = []
    for (const topic of this.active) if (!this.has(topic)) toUnsubscribe.push(topic)
    this.unsubscribe(toUnsubscribe)
    this.subscribe(toSubscribe)
  }

  /** The connection is down: send nothing until it is `connected` again. */
  disconnected (): void {
    this.subscriber = undefined
  }

  /**
   * For a subscriber that is the user's and stays connected: unsubscribes our channels.
   * Resolves when Redis confirmed, or failed.
   */
  async leave (subscriber: RedisClientLike): Promise<void> {
    const channels = [...this.active].map((topic) => this.prefix + topic)
    this.active.clear()
    this.subscriber = undefined
    if (channels.length === 0 || subscriber.status !== 'ready') return
    const sent = this.sharded
      ? Promise.all(channels.map(async (channel) => await subscriber.sunsubscribe(channel)))
      : subscriber.unsubscribe(...channels)
    await sent.then(() => {}, () => {})
  }

  clear (): void {
    this.topics.clear()
    this.subscriber = undefined
  }

  private has (topic: string): boolean {
    return this.topics.has(this.prefix + topic)
  }

  private subscribe (topics: string[]): void {
    const subscriber = this.subscriber as RedisClientLike
    for (const batch of this.batches(topics, subscriber)) {
      for (const topic of batch) this.active.add(topic)
      const channels = batch.map((topic) => this.prefix + topic)
      const sent = this.sharded ? subscriber.ssubscribe(...channels) : subscriber.subscribe(...channels)
      sent.catch((error: Error) => {
        // Not subscribed after all: forget it, so the next resynchronisation sends it again.
        for (const topic of batch) this.active.delete(topic)
        this.onRefused(error, 'subscribe', batch)
      })
    }
  }

  private unsubscribe (topics: string[]): void {
    const subscriber = this.subscriber as RedisClientLike
    for (const batch of this.batches(topics, subscriber)) {
      for (const topic of batch) this.active.delete(topic)
      const channels = batch.map((topic) => this.prefix + topic)
      const sent = this.sharded ? subscriber.sunsubscribe(...channels) : subscriber.unsubscribe(...channels)
      sent.catch((error: Error) => {
        for (const topic of batch) if (!this.has(topic)) this.active.add(topic)
        this.onRefused(error, 'unsubscribe', batch)
      })
    }
  }

  /** Commands of at most SUBSCRIBE_BATCH channels; one channel each for sharded commands on a Cluster (one slot per command). */
  private * batches (topics: string[], subscriber: RedisClientLike): Generator<string[]> {
    const size = this.sharded && subscriber.isCluster === true ? 1 : SUBSCRIBE_BATCH
    for (let at = 0; at < topics.length; at += size) yield topics.slice(at, at + size)
  }
}
