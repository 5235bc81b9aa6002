import { PublishedMessage } from './published-message.js'
import { toPayload, type WebSocketData } from './send-data.js'
import { WebSocket, connectionOf, type MessageArgs } from './websocket.js'

export interface PublishOptions {
  /**
   * A socket (or sockets) that must not receive this message, typically the sender: any
   * socket, including one typed by its route's `messageSchema` (which is not a
   * `WebSocket<RawMessageArgs>`).
   */
  except?: WebSocket<MessageArgs> | Iterable<WebSocket<MessageArgs>>
  /** Send as binary (true) or text (false). Defaults to text for strings, binary otherwise. */
  binary?: boolean
}

/**
 * What carries topics to the other instances of an app (a `TopicAdapter`: in-process by
 * default, Redis with `fastify-websocket-native/redis`). The registry tells it when this
 * instance gains its first subscriber of a topic and loses its last, and hands it every
 * publish after serving the local subscribers.
 */
export interface TopicBus {
  subscribe: (topic: string) => void
  unsubscribe: (topic: string) => void
  publish: (topic: string, data: Buffer, binary: boolean) => void
}

/**
 * Publish/subscribe for one app instance. A message published to a topic is encoded into a
 * frame once, and the same bytes are written to every local subscriber; each subscriber's own
 * backpressure policy applies, so one slow reader never holds the others back. Then the bus
 * carries it to the other instances, whose registries serve their own subscribers
 * (`publishLocal`): never twice, never back here.
 */
export class TopicRegistry {
  private readonly topics = new Map<string, Set<WebSocket>>()
  private bus: TopicBus | undefined

  /** Connects the registry to the bus that reaches the other instances. */
  attach (bus: TopicBus): void {
    this.bus = bus
    for (const topic of this.topics.keys()) bus.subscribe(topic)
  }

  /** @internal Called by `socket.subscribe()`. */
  add (topic: string, socket: WebSocket): void {
    let subscribers = this.topics.get(topic)
    if (subscribers === undefined) {
      subscribers = new Set()
      this.topics.set(topic, subscribers)
      // The instance's first subscriber: from now on, the other instances' publishes to it.
      this.bus?.subscribe(topic)
    }
    subscribers.add(socket)
  }

  /** @internal Called by `socket.unsubscribe()` and when a socket closes. */
  delete (topic: string, socket: WebSocket): void {
    const subscribers = this.topics.get(topic)
    if (subscribers === undefined || !subscribers.delete(socket) || subscribers.size > 0) return
    this.topics.delete(topic)
    this.bus?.unsubscribe(topic)
  }

  /** Number of sockets of this instance subscribed to `topic`. */
  subscriberCount (topic: string): number {
    return this.topics.get(topic)?.size ?? 0
  }

  /** Topics with at least one subscriber on this instance. */
  get size (): number {
    return this.topics.size
  }

  /**
   * Sends `data` to every open subscriber of `topic` (except `options.except`) on this
   * instance, then hands it to the bus for the others. Returns how many local sockets it was
   * written to (dropped and closing sockets are not counted).
   */
  publish (topic: string, data: WebSocketData, options: PublishOptions = {}): number {
    const { payload, binary } = toPayload(data, options.binary)
    const sent = this.publishLocal(topic, payload, binary, options.except)
    this.bus?.publish(topic, payload, binary)
    return sent
  }

  /**
   * Serves this instance's subscribers only: for messages that came from another instance
   * (they must never go back to the bus, or they would loop).
   */
  publishLocal (topic: string, payload: Buffer, binary: boolean, except?: PublishOptions['except']): number {
    const subscribers = this.topics.get(topic)
    if (subscribers === undefined || subscribers.size === 0) return 0
    const message = new PublishedMessage(payload, binary)
    const excluded = except === undefined
      ? undefined
      : except instanceof WebSocket ? new Set([except]) : new Set(except)
    let sent = 0
    // Subscribers leave only when their transport closes, never inside this loop.
    for (const socket of subscribers) {
      if (excluded?.has(socket) === true) continue
      if (connectionOf(socket).sendPublished(message)) sent++
    }
    return sent
  }
}
