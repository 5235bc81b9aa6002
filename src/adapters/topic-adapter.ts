/**
 * The contract between the plugin's topics (`socket.subscribe()`, `app.publish()`) and a bus
 * that carries them to the other instances of an app: the in-process {@link memoryAdapter},
 * `redisAdapter` (`fastify-websocket-native/redis`), or one of your own (NATS, Postgres
 * LISTEN/NOTIFY, ...).
 *
 * ```
 *  instance A                                   instance B
 *  app.publish(t, m) ──► local subscribers      adapter ──deliver(t, m)──► local subscribers
 *         │                                        ▲
 *         └──► adapter.publish(t, m) ──── bus ─────┘   (only if B has subscribers of t,
 *                                                       i.e. called adapter.subscribe(t))
 * ```
 *
 * The plugin keeps the local registry and serves local subscribers itself, synchronously and
 * never twice; the adapter only moves messages between instances, and never hands an instance
 * back its own publish. An adapter knows topics, not sockets: the plugin calls `subscribe` when
 * the first local socket joins a topic and `unsubscribe` when the last one leaves, so bus
 * traffic follows real interest.
 *
 * Delivery between instances is at most once (like Redis pub/sub): an adapter may drop
 * messages while its bus is unreachable, and says so in {@link TopicAdapterStats.dropped}. It
 * keeps each publisher's order.
 *
 * @module
 */

/** The logger an adapter writes to: the app's (pino-like) logger. */
export interface TopicAdapterLogger {
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
}

/** What the plugin gives an adapter when it starts it. */
export interface TopicAdapterContext {
  /**
   * Hands a message published on another instance to this instance's local subscribers of
   * `topic` (the plugin encodes it once and writes it to each). `binary` is the frame type:
   * `false` means `data` is UTF-8 text. `data` is the adapter's to give away: the plugin may
   * keep it (queued on a socket) and never modifies it.
   *
   * Called only between `start()` and `close()`, only for topics the adapter was told to
   * `subscribe` (and not yet `unsubscribe`), and never synchronously from inside this adapter's
   * own `publish`, `subscribe` or `unsubscribe`. Must not throw; an adapter catches and logs
   * it if it does.
   */
  deliver: (topic: string, data: Buffer, binary: boolean) => void
  /** The app's logger (`fastify.log`). */
  log: TopicAdapterLogger
}

/**
 * Where an adapter is in its life:
 *
 * - `'idle'`: created, `start()` not called yet.
 * - `'connecting'`: started, its bus not reached yet (publishes follow the outage policy).
 * - `'ready'`: carrying messages both ways.
 * - `'reconnecting'`: was ready, lost its bus, is trying again (publishes follow the outage
 *   policy, remote publishes are not received).
 * - `'closed'`: `close()` was called; publishes are dropped.
 */
export type TopicAdapterState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed'

/** A snapshot of an adapter's counters, for `stats()` and health checks. Counts since creation. */
export interface TopicAdapterStats {
  /** The adapter's kind, e.g. `'memory'` or `'redis'`. */
  readonly adapter: string
  readonly state: TopicAdapterState
  /** Topics this instance is subscribed to on the bus (topics with at least one local subscriber). */
  readonly topics: number
  /** Messages handed to the bus for the other instances, and their payload bytes. */
  readonly messagesOut: number
  readonly bytesOut: number
  /** Messages received from other instances and delivered to local subscribers, and their payload bytes. */
  readonly messagesIn: number
  readonly bytesIn: number
  /**
   * Messages published here that will not reach other instances: published while the bus was
   * unreachable (beyond what the adapter holds), refused by the bus, or published after close.
   */
  readonly dropped: number
  /** Messages held now, to be sent when the bus is reachable again. */
  readonly queued: number
}

/**
 * A bus between instances of an app. The plugin calls, in this order: `start` once (awaited
 * during `app.ready()`), then any number of `subscribe`, `unsubscribe` and `publish`, then
 * `close` once its sockets are closed (awaited during `app.close()`).
 *
 * None of `subscribe`, `unsubscribe` and `publish` throws, blocks or returns a promise: they
 * are called from `socket.subscribe()` and `app.publish()`, which are synchronous. Failures
 * show in {@link stats} and the log.
 */
export interface TopicAdapter {
  /**
   * Connects the adapter and gives it the plugin's context. May wait for the bus (bounded by
   * the adapter's own timeout); an unreachable bus is not an error here, the adapter keeps
   * trying. Throws if called twice.
   */
  start: (context: TopicAdapterContext) => void | Promise<void>
  /**
   * This instance's first local subscriber of `topic` arrived: from now on, deliver what other
   * instances publish to it. Subscribing a topic already subscribed does nothing.
   */
  subscribe: (topic: string) => void
  /** The last local subscriber of `topic` left. Unsubscribing an unknown topic does nothing. */
  unsubscribe: (topic: string) => void
  /**
   * Carries a message to the other instances' subscribers of `topic` (local subscribers were
   * served already). `binary === false` means `data` is UTF-8 text. The adapter does not keep a
   * reference to `data` after returning (it copies what it holds), so the caller may reuse it.
   */
  publish: (topic: string, data: Buffer, binary: boolean) => void
  /** A fresh snapshot of the adapter's state and counters. */
  readonly stats: TopicAdapterStats
  /**
   * Releases the adapter's connections (not the ones the user passed in) and stops delivery.
   * Safe to call more than once, and without `start`.
   */
  close: () => Promise<void>
}
