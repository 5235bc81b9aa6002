import { PublishedMessage } from './published-message.js'
import { toPayload, type WebSocketData } from './send-data.js'
import { WebSocket, connectionOf } from './websocket.js'

export interface PublishOptions {
  /** A socket (or sockets) that must not receive this message, typically the sender. */
  except?: WebSocket | Iterable<WebSocket>
  /** Send as binary (true) or text (false). Defaults to text for strings, binary otherwise. */
  binary?: boolean
}

/**
 * In-process publish/subscribe. A message published to a topic is encoded into a frame once,
 * and the same bytes are written to every subscriber; each subscriber's own backpressure
 * policy applies, so one slow reader never holds the others back.
 */
export class TopicRegistry {
  private readonly topics = new Map<string, Set<WebSocket>>()

  /** @internal Called by `socket.subscribe()`. */
  add (topic: string, socket: WebSocket): void {
    let subscribers = this.topics.get(topic)
    if (subscribers === undefined) {
      subscribers = new Set()
      this.topics.set(topic, subscribers)
    }
    subscribers.add(socket)
  }

  /** @internal Called by `socket.unsubscribe()` and when a socket closes. */
  delete (topic: string, socket: WebSocket): void {
    const subscribers = this.topics.get(topic)
    if (subscribers === undefined) return
    subscribers.delete(socket)
    if (subscribers.size === 0) this.topics.delete(topic)
  }

  /** Number of sockets subscribed to `topic`. */
  subscriberCount (topic: string): number {
    return this.topics.get(topic)?.size ?? 0
  }

  /**
   * Sends `data` to every open subscriber of `topic` (except `options.except`). Returns how
   * many sockets it was written to (dropped and closing sockets are not counted).
   */
  publish (topic: string, data: WebSocketData, options: PublishOptions = {}): number {
    const subscribers = this.topics.get(topic)
    if (subscribers === undefined || subscribers.size === 0) return 0
    const { payload, binary } = toPayload(data, options.binary)
    const message = new PublishedMessage(payload, binary)
    const except = options.except
    const excluded = except === undefined
      ? undefined
      : isSocket(except) ? new Set([except]) : new Set(except)
    let sent = 0
    // Subscribers leave only when their transport closes, never inside this loop.
    for (const socket of subscribers) {
      if (excluded?.has(socket) === true) continue
      if (connectionOf(socket).sendPublished(message)) sent++
    }
    return sent
  }
}

function isSocket (value: unknown): value is WebSocket {
  return value instanceof WebSocket
}
