import type { TopicAdapter, TopicAdapterContext, TopicAdapterState, TopicAdapterStats } from './topic-adapter.js'

/**
 * An in-process bus: the memory adapters created with the same bus share topics, so several
 * Fastify apps in one process (tests, workers of one server) behave like instances of one app
 * on a Redis bus. Delivery is synchronous and never fails.
 *
 * ```ts
 * const bus = new MemoryBus()
 * await a.register(websocket, { adapter: memoryAdapter({ bus }) })
 * await b.register(websocket, { adapter: memoryAdapter({ bus }) })
 * ```
 */
export class MemoryBus {
  /** For each topic, the adapters subscribed to it. */
  private readonly subscribers = new Map<string, Set<MemoryTopicAdapter>>()

  /** @internal */
  join (topic: string, adapter: MemoryTopicAdapter): void {
    let members = this.subscribers.get(topic)
    if (members === undefined) {
      members = new Set()
      this.subscribers.set(topic, members)
    }
    members.add(adapter)
  }

  /** @internal */
  leave (topic: string, adapter: MemoryTopicAdapter): void {
    const members = this.subscribers.get(topic)
    if (members === undefined) return
    members.delete(adapter)
    if (members.size === 0) this.subscribers.delete(topic)
  }

  /** @internal Hands `data` to every adapter subscribed to `topic` except `from`. */
  carry (topic: string, data: Buffer, binary: boolean, from: MemoryTopicAdapter): void {
    const members = this.subscribers.get(topic)
    if (members === undefined) return
    let copy: Buffer | undefined
    for (const member of members) {
      if (member === from) continue
      // One copy for all receivers: they may keep it queued on sockets, and the publisher may
      // reuse its buffer once publish returns.
      copy ??= Buffer.from(data)
      member.receive(topic, copy, binary)
    }
  }

  /** Number of topics with at least one subscribed adapter. */
  get topicCount (): number {
    return this.subscribers.size
  }
}

/** Options of {@link memoryAdapter}. */
export interface MemoryAdapterOptions {
  /**
   * The bus to share topics on. Default: a private bus, so one app alone behaves as an app
   * without an adapter.
   */
  bus?: MemoryBus
}

/**
 * The in-process topic adapter: the default when no `adapter` is given. With a shared
 * {@link MemoryBus}, a publish on one app reaches the subscribers of every app on that bus.
 *
 * @throws {TypeError} for an unknown option or a `bus` that is not a `MemoryBus`.
 */
export function memoryAdapter (options: MemoryAdapterOptions = {}): TopicAdapter {
  if (typeof options !== 'object' || options === null) throw new TypeError('memoryAdapter: options must be an object')
  for (const key of Object.keys(options)) {
    if (key !== 'bus') throw new TypeError(`memoryAdapter: unknown option "${key}"`)
  }
  if (options.bus !== undefined && !(options.bus instanceof MemoryBus)) {
    throw new TypeError('memoryAdapter: options.bus must be a MemoryBus')
  }
  return new MemoryTopicAdapter(options.bus ?? new MemoryBus())
}

/** @internal The adapter {@link memoryAdapter} returns. */
export class MemoryTopicAdapter implements TopicAdapter {
  private readonly bus: MemoryBus
  private context: TopicAdapterContext | undefined
  private state: TopicAdapterState = 'idle'
  private readonly topics = new Set<string>()
  private messagesOut = 0
  private bytesOut = 0
  private messagesIn = 0
  private bytesIn = 0
  private dropped = 0
  private deliveryErrors = 0

  constructor (bus: MemoryBus) {
    this.bus = bus
  }

  start (context: TopicAdapterContext): void {
    if (this.state !== 'idle') throw new Error(`memoryAdapter: start() called in state '${this.state}'`)
    this.context = context
    this.state = 'ready'
  }

  subscribe (topic: string): void {
    if (this.state === 'closed' || this.topics.has(topic)) return
    this.topics.add(topic)
    this.bus.join(topic, this)
  }

  unsubscribe (topic: string): void {
    if (!this.topics.delete(topic)) return
    this.bus.leave(topic, this)
  }

  publish (topic: string, data: Buffer, binary: boolean): void {
    // The bus is in-process, so it is reachable from creation on; only a closed adapter drops.
    if (this.state === 'closed') {
      this.dropped++
      return
    }
    this.messagesOut++
    this.bytesOut += data.length
    this.bus.carry(topic, data, binary, this)
  }

  /** @internal Called by the bus with another adapter's publish. */
  receive (topic: string, data: Buffer, binary: boolean): void {
    const context = this.context
    if (this.state !== 'ready' || context === undefined) return
    this.messagesIn++
    this.bytesIn += data.length
    try {
      context.deliver(topic, data, binary)
    } catch (error) {
      // Another app's failure must not reach the publisher's `app.publish()`.
      if (this.deliveryErrors++ === 0) context.log.error({ err: error, topic }, 'memory topic adapter: deliver threw (logged once)')
    }
  }

  get stats (): TopicAdapterStats {
    return {
      adapter: 'memory',
      state: this.state,
      topics: this.topics.size,
      messagesOut: this.messagesOut,
      bytesOut: this.bytesOut,
      messagesIn: this.messagesIn,
      bytesIn: this.bytesIn,
      dropped: this.dropped,
      queued: 0
    }
  }

  async close (): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    for (const topic of this.topics) this.bus.leave(topic, this)
    this.topics.clear()
    this.context = undefined
  }
}
