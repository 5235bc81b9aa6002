import { isUtf8 } from 'node:buffer'
import type { TopicAdapter, TopicAdapterContext, TopicAdapterState, TopicAdapterStats } from '../topic-adapter.js'
import { ChannelSubscriptions } from './channel-subscriptions.js'
import { ENVELOPE_HEADER_LENGTH, EnvelopeKind, InstanceId, readEnvelope, writeEnvelope } from './envelope.js'
import { OutageQueue } from './outage-queue.js'
import type { ResolvedRedisAdapterOptions } from './redis-adapter-options.js'
import type { RedisClientInternals, RedisClientLike } from './redis-client.js'
import { endConnection, openConnections, withTimeout } from './redis-connections.js'

/** {@link TopicAdapterStats} plus what only the Redis adapter knows. */
export interface RedisTopicAdapterStats extends TopicAdapterStats {
  readonly adapter: 'redis'
  /** Bytes held in the outage queue (payloads plus 11-byte headers). */
  readonly queuedBytes: number
  /** Messages read from a topic's channel that were not an envelope of ours, or text that was not UTF-8: not delivered. */
  readonly rejected: number
  /** Times the adapter went from `'reconnecting'` back to `'ready'`. */
  readonly reconnects: number
  /** Times `deliver` threw (a bug in the caller; logged once). */
  readonly deliveryErrors: number
  /** The last connection error ioredis reported, cleared when the adapter is ready again. */
  readonly lastError: string | undefined
}

/** How long `close()` waits for a connection to end or a user's subscriber to unsubscribe, in milliseconds. */
const CLOSE_TIMEOUT = 2000
/** Redis falling behind can come and go many times a second: one warning a minute is enough. */
const CONGESTION_LOG_INTERVAL = 60_000

/**
 * Topics across instances over Redis pub/sub; see `redisAdapter()` for the options.
 *
 * Two connections: one publishes, one subscribes (a connection in subscriber mode can do
 * nothing else). The adapter state is `'ready'` when both are; `publish` sends directly only
 * then, and otherwise applies the outage policy (the bounded {@link OutageQueue}), so ioredis's
 * own offline queue is never used.
 */
export class RedisTopicAdapter implements TopicAdapter {
  /** This instance's id (16 hex digits), carried in every message it publishes. */
  readonly instanceId: string
  private readonly id = new InstanceId()
  private readonly options: ResolvedRedisAdapterOptions
  private state: TopicAdapterState = 'idle'
  private context: TopicAdapterContext | undefined
  private publisher: RedisClientLike | undefined
  private subscriber: RedisClientLike | undefined
  private ownsPublisher = false
  private ownsSubscriber = false
  /** The publisher was seen `'ready'` and the held messages were flushed. */
  private publisherLive = false
  private everReady = false
  private readonly topics: ChannelSubscriptions
  private readonly queue: OutageQueue
  private waitingForDrain = false
  /** The publisher's socket while corked for the rest of this tick. */
  private corked: RedisClientInternals['stream'] | undefined
  private messagesOut = 0
  private bytesOut = 0
  private messagesIn = 0
  private bytesIn = 0
  private dropped = 0
  private rejected = 0
  private reconnects = 0
  private deliveryErrors = 0
  private lastError: Error | undefined
  /** When the current outage began, how many messages had been dropped then, how many held ones were sent since. */
  private outage: { since: number, dropped: number, resent: number } | undefined
  /** Log lines that would repeat: publish refused (once per connection), Redis slow (once a minute), foreign messages (once). */
  private publishErrorLogged = false
  private congestionLoggedAt = -Infinity
  private rejectionLogged = false
  private readyWaiters: Array<() => void> = []
  private closing: Promise<void> | undefined

  constructor (options: ResolvedRedisAdapterOptions) {
    this.options = options
    this.instanceId = this.id.toString()
    this.queue = new OutageQueue(options.maxQueuedMessages, options.maxQueuedBytes)
    this.topics = new ChannelSubscriptions(options.prefix, options.sharded, this.onSubscriptionRefused)
  }

  async start (context: TopicAdapterContext): Promise<void> {
    if (this.state !== 'idle') throw new Error(`redisAdapter: start() called in state '${this.state}'`)
    if (typeof context?.deliver !== 'function' || typeof context.log?.warn !== 'function') {
      throw new TypeError('redisAdapter: start() needs a context with deliver() and log')
    }
    this.context = context
    this.state = 'connecting'
    const connections = openConnections(this.options)
    const { publisher, subscriber } = connections
    this.publisher = publisher
    this.subscriber = subscriber
    this.ownsPublisher = connections.ownsPublisher
    this.ownsSubscriber = connections.ownsSubscriber
    for (const client of [publisher, subscriber]) {
      client.on('error', this.onError)
      for (const event of ['ready', 'close', 'end', 'reconnecting']) client.on(event, this.onStatus)
      if (client.status === 'wait') client.connect().catch(() => {})
    }
    subscriber.on(this.options.sharded ? 'smessageBuffer' : 'messageBuffer', this.onMessage)
    this.refresh()
    await this.waitUntilReady()
    if (this.state === 'connecting') {
      context.log.error({ adapter: 'redis', instanceId: this.instanceId, err: this.lastError?.message, readyTimeout: this.options.readyTimeout },
        'Redis is not reachable: serving local subscribers only while the topic adapter keeps trying')
    }
  }

  subscribe (topic: string): void {
    if (this.state !== 'closed') this.topics.add(topic)
  }

  unsubscribe (topic: string): void {
    this.topics.remove(topic)
  }

  publish (topic: string, data: Buffer, binary: boolean): void {
    if (this.state === 'closed') {
      this.dropped++
      return
    }
    const channel = this.options.prefix + topic
    // The envelope is our own copy, so the caller may reuse `data`, and a queued message stays intact.
    const envelope = writeEnvelope(data, binary, this.id)
    // Behind queued messages, or Redis not taking them: queue, so order is kept.
    if (this.queue.length === 0 && this.canSend()) this.send(channel, envelope)
    else this.hold(channel, envelope)
  }

  get stats (): RedisTopicAdapterStats {
    return {
      adapter: 'redis',
      state: this.state,
      topics: this.topics.size,
      messagesOut: this.messagesOut,
      bytesOut: this.bytesOut,
      messagesIn: this.messagesIn,
      bytesIn: this.bytesIn,
      dropped: this.dropped,
      queued: this.queue.length,
      queuedBytes: this.queue.bytes,
      rejected: this.rejected,
      reconnects: this.reconnects,
      deliveryErrors: this.deliveryErrors,
      lastError: this.lastError?.message
    }
  }

  async close (): Promise<void> {
    this.closing ??= this.shutdown()
    await this.closing
  }

  // Connections.

  private readonly onError = (error: Error): void => {
    // Every failed reconnection attempt reports an error: remembered, logged once per outage (in transition()).
    this.lastError = error
  }

  private readonly onStatus = (): void => {
    this.refresh()
  }

  private readonly onMessage = (channel: Buffer, message: Buffer): void => {
    this.receive(channel, message)
  }

  private readonly onDrain = (): void => {
    this.waitingForDrain = false
    this.flush()
  }

  /** Reads both connections' status (ioredis reports changes a tick late) and acts on what changed. */
  private refresh (): void {
    if (this.state === 'idle' || this.state === 'closed') return
    const publisher = this.publisher as RedisClientLike
    const subscriber = this.subscriber as RedisClientLike
    const publisherReady = publisher.status === 'ready'
    const subscriberReady = subscriber.status === 'ready'
    const publisherCameBack = publisherReady && !this.publisherLive
    this.publisherLive = publisherReady
    if (subscriberReady && !this.topics.live) this.topics.connected(subscriber)
    else if (!subscriberReady) this.topics.disconnected()
    if (publisherCameBack) {
      this.publishErrorLogged = false
      const held = this.queue.length
      this.flush()
      if (this.outage !== undefined) this.outage.resent += held - this.queue.length
    }
    const next: TopicAdapterState = publisherReady && subscriberReady ? 'ready' : this.everReady ? 'reconnecting' : 'connecting'
    this.transition(next)
  }

  private transition (next: TopicAdapterState): void {
    const previous = this.state
    if (next === previous) return
    this.state = next
    const log = (this.context as TopicAdapterContext).log
    const base = { adapter: 'redis', instanceId: this.instanceId }
    if (next === 'ready') {
      this.everReady = true
      if (previous === 'reconnecting') {
        this.reconnects++
        // 'reconnecting' only ever follows 'ready', which started the outage record.
        const outage = this.outage as { since: number, dropped: number, resent: number }
        log.info({
          ...base,
          outageMs: Date.now() - outage.since,
          dropped: this.dropped - outage.dropped,
          resent: outage.resent,
          topics: this.topics.size
        }, 'Redis is reachable again: topics resubscribed, held messages sent')
      } else {
        log.info({ ...base, topics: this.topics.size }, 'topic adapter connected to Redis')
      }
      this.outage = undefined
      this.lastError = undefined
      for (const wake of this.readyWaiters.splice(0)) wake()
    } else if (next === 'reconnecting' && previous === 'ready') {
      this.outage = { since: Date.now(), dropped: this.dropped, resent: 0 }
      log.warn({
        ...base,
        err: this.lastError?.message,
        publisher: this.publisher?.status,
        subscriber: this.subscriber?.status,
        maxQueuedMessages: this.options.maxQueuedMessages
      }, 'lost the connection to Redis: local subscribers are still served, other instances are not until it returns (logged once per outage)')
    }
  }

  private async waitUntilReady (): Promise<void> {
    const timeout = this.options.readyTimeout
    if (this.state === 'ready' || timeout === 0) return
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      this.readyWaiters.push(resolve)
      if (timeout !== Infinity) timer = setTimeout(resolve, timeout)
    })
    clearTimeout(timer)
  }

  // Publishing.

  /** Whether a message may go to Redis now: the publisher is ready and keeping up. */
  private canSend (): boolean {
    const publisher = this.publisher
    if (!this.publisherLive || publisher === undefined || publisher.status !== 'ready') return false
    const stream = (publisher as RedisClientInternals).stream
    if (stream === undefined || (stream.writableLength ?? 0) <= this.options.maxBufferedBytes) return true
    // Redis reads slower than we publish: hold messages until the socket drains.
    if (!this.waitingForDrain && typeof stream.once === 'function') {
      this.waitingForDrain = true
      stream.once('drain', this.onDrain)
    }
    const now = Date.now()
    if (now - this.congestionLoggedAt >= CONGESTION_LOG_INTERVAL) {
      this.congestionLoggedAt = now
      ;(this.context as TopicAdapterContext).log.warn({ adapter: 'redis', instanceId: this.instanceId, maxBufferedBytes: this.options.maxBufferedBytes },
        'Redis is not keeping up with publishes: holding them in the bounded queue (logged at most once a minute)')
    }
    return false
  }

  private send (channel: string, envelope: Buffer): void {
    const publisher = this.publisher as RedisClientLike
    const stream = (publisher as RedisClientInternals).stream
    if (this.corked === undefined && typeof stream?.cork === 'function') {
      // Every publish of this tick leaves in one write (a writev) instead of one system call each.
      stream.cork()
      this.corked = stream
      process.nextTick(this.uncork)
    }
    this.messagesOut++
    this.bytesOut += envelope.length - ENVELOPE_HEADER_LENGTH
    const sent = this.options.sharded ? publisher.spublish(channel, envelope) : publisher.publish(channel, envelope)
    sent.catch(this.onPublishError)
  }

  private readonly uncork = (): void => {
    const stream = this.corked
    this.corked = undefined
    stream?.uncork?.()
  }

  private readonly onPublishError = (error: Error): void => {
    // Refused by Redis (say NOPERM), or the connection dropped as it was written.
    this.dropped++
    if (this.publishErrorLogged || this.state === 'closed') return
    this.publishErrorLogged = true
    ;(this.context as TopicAdapterContext).log.error({ adapter: 'redis', instanceId: this.instanceId, err: error.message },
      'Redis refused a publish: other instances miss it (logged once until reconnection)')
  }

  private hold (channel: string, envelope: Buffer): void {
    this.dropped += this.queue.push({ channel, envelope })
  }

  /** Sends held messages, oldest first, while Redis takes them. */
  private flush (): void {
    while (this.queue.length > 0 && this.canSend()) {
      const message = this.queue.shift() as { channel: string, envelope: Buffer }
      this.send(message.channel, message.envelope)
    }
  }

  private readonly onSubscriptionRefused = (error: Error, command: string, topics: string[]): void => {
    // A connection that dropped mid-command is resubscribed when it is back; only a refusal
    // from a live connection (an ACL, a wrong slot) is worth a log line.
    if (this.state === 'closed' || this.subscriber?.status !== 'ready') return
    ;(this.context as TopicAdapterContext).log.error({ adapter: 'redis', instanceId: this.instanceId, err: error.message, topics: topics.slice(0, 10) },
      `Redis refused to ${command}: other instances' publishes to these topics do not arrive`)
  }

  // Receiving.

  private receive (channel: Buffer, message: Buffer): void {
    const context = this.context
    if (context === undefined || this.state === 'closed') return
    const name = channel.toString()
    // Not a topic of ours: a channel of the user's on their subscriber, or a message in
    // flight when the last local subscriber left.
    const topic = this.topics.topicOf(name)
    if (topic === undefined) return
    const kind = readEnvelope(message, this.id)
    if (kind === EnvelopeKind.Own) return
    const payload = message.subarray(ENVELOPE_HEADER_LENGTH)
    if (kind === EnvelopeKind.Invalid || (kind === EnvelopeKind.Text && !isUtf8(payload))) {
      this.rejected++
      if (!this.rejectionLogged) {
        this.rejectionLogged = true
        context.log.warn({ adapter: 'redis', instanceId: this.instanceId, channel: name, bytes: message.length },
          'a message on a topic channel is not from this adapter (or is text that is not UTF-8): not delivered (logged once)')
      }
      return
    }
    this.messagesIn++
    this.bytesIn += payload.length
    try {
      context.deliver(topic, payload, kind === EnvelopeKind.Binary)
    } catch (error) {
      // ioredis would rethrow it as an uncaught exception from its parser.
      if (this.deliveryErrors++ === 0) context.log.error({ adapter: 'redis', err: error, topic }, 'topic adapter: deliver threw (logged once)')
    }
  }

  // Closing.

  private async shutdown (): Promise<void> {
    const started = this.state !== 'idle'
    this.state = 'closed'
    this.dropped += this.queue.clear()
    for (const wake of this.readyWaiters.splice(0)) wake()
    if (!started) return
    const publisher = this.publisher as RedisClientLike
    const subscriber = this.subscriber as RedisClientLike
    subscriber.removeListener(this.options.sharded ? 'smessageBuffer' : 'messageBuffer', this.onMessage)
    const ending: Array<Promise<void>> = []
    if (this.ownsSubscriber) {
      ending.push(endConnection(subscriber, CLOSE_TIMEOUT))
    } else {
      // Theirs: leave it connected, without our channels and listeners.
      ending.push(withTimeout(this.topics.leave(subscriber), CLOSE_TIMEOUT))
      this.detach(subscriber)
    }
    if (this.ownsPublisher) ending.push(endConnection(publisher, CLOSE_TIMEOUT))
    else this.detach(publisher)
    await Promise.all(ending)
    this.topics.clear()
    this.context = undefined
  }

  private detach (client: RedisClientLike): void {
    client.removeListener('error', this.onError)
    for (const event of ['ready', 'close', 'end', 'reconnecting']) client.removeListener(event, this.onStatus)
  }
}
