/** Options, events and callback types of the WebSocket class. */
import type { NegotiatedDeflate } from './connection-compression.js'
import type { InvalidMessageError, MessageCodec } from './message-codec.js'
import type { HeartbeatScheduler } from './heartbeat.js'
import type { TopicRegistry } from './topics.js'
import type { TrafficCounters } from './traffic-counters.js'
import type { WebSocket } from './websocket.js'

export interface WebSocketSendOptions {
  /** Force binary (true) or text (false). Bytes forced to text must be valid UTF-8. */
  binary?: boolean
  /** False sends a fragment; the next send continues the same message. @default true */
  fin?: boolean
  /**
   * With permessage-deflate negotiated: false sends this message uncompressed (already
   * compressed data, say). Messages under the `threshold` and fragments are never compressed.
   * @default true
   */
  compress?: boolean
}

export type SendCallback = (error?: Error | null) => void

/**
 * What one connection is opened with: the handshake's outcome and the bytes that came with it.
 * Read by the constructor and not kept, so a server can pass its settings once per route
 * (`ConnectionSettings`) and only these per connection.
 */
export interface ConnectionInit {
  /** The negotiated subprotocol, or '' for none. */
  protocol?: string
  /**
   * Bytes that arrived with the upgrade request. They are put back into the stream and read
   * as its first chunk, never parsed inside the constructor, so listeners attached right
   * after `new WebSocket()` (or after `releaseEvents()`) get their events.
   */
  head?: Buffer
  /**
   * Do not read from the stream until `releaseEvents()` is called, and queue any event that
   * happens meanwhile (a reset), so a handler that attaches its listeners late (after an
   * `await`) loses nothing. Unread data waits in the kernel, so memory stays bounded, and
   * messages are answered in order before any close that follows them. @default false
   */
  holdEvents?: boolean
  /** permessage-deflate as negotiated in the handshake; absent when it was not (RFC 7692). */
  perMessageDeflate?: NegotiatedDeflate
  /** Passed to `onUnhandledError` with the error (the server gives the upgrade's request id). */
  label?: string
}

/**
 * How connections behave. Kept by every connection for its whole life, so a server shares
 * one object between the connections of a route: per-socket memory stays small (issue 12, D).
 */
export interface ConnectionSettings {
  /** 'server' for sockets accepted by the plugin, 'client' for `connect()`. @default 'server' */
  role?: 'server' | 'client'
  /** Largest incoming message in bytes; over it the connection fails with 1009. @default 1 MiB */
  maxMessageSize?: number
  /**
   * Milliseconds to wait for the closing handshake (the peer's close frame, then the TCP close)
   * after we start it, before the socket is destroyed. @default 5000
   */
  closeTimeout?: number
  /** Called for an error nobody listens to, instead of crashing the process. */
  onUnhandledError?: (error: Error, label: string | undefined) => void
  /**
   * Called once, synchronously, when the transport has closed, even while events are held.
   * Registries use it to stay exact.
   */
  onClosed?: (socket: WebSocket) => void
  /** Answer pings automatically (see `ProtocolOptions.autoPong`). @default true */
  autoPong?: boolean
  /** Client mask keys; injectable for deterministic tests. @default crypto random */
  maskKeySource?: () => Uint8Array
  /**
   * Most bytes that may wait in the outgoing queue (`bufferedAmount`). A send made while the
   * queue is at or over it triggers `backpressurePolicy`. A single large send on a shorter
   * queue always goes through. @default Infinity
   */
  maxBufferedAmount?: number
  /**
   * What a send does when the queue is over `maxBufferedAmount`: 'close' fails the connection
   * with 1008 (policy violation); 'drop' discards the message (send returns false and its
   * callback gets an error). @default 'close'
   */
  backpressurePolicy?: BackpressurePolicy
  /** Shared timer for pings, pong timeouts and idle timeouts; none when omitted. */
  heartbeat?: HeartbeatScheduler
  /** The registry behind `subscribe()`; server sockets get their app's. */
  topics?: TopicRegistry
  /** Totals this connection adds to (the plugin instance's). */
  counters?: TrafficCounters
  /** The route's URL pattern, for diagnostics. */
  route?: string
  /** Typed messages: how incoming data is decoded and `sendJSON` serialised (see MessageCodec). */
  messageCodec?: MessageCodec
}

/** Settings and init in one object, for callers that open one connection at a time. */
export interface WebSocketOptions extends ConnectionSettings, ConnectionInit {}

export type BackpressurePolicy = 'close' | 'drop'

export const DEFAULT_CLOSE_TIMEOUT = 5000

/**
 * The arguments 'message' listeners get: `[data: Buffer, isBinary: boolean]`, unless the route
 * decodes messages with a `messageSchema`: then `[data: T, isBinary: false]` (and
 * `| [data: Buffer, isBinary: true]` with `allowBinaryMessages`).
 */
export type MessageArgs = [data: unknown, isBinary: boolean]

/** The 'message' arguments of a socket whose messages are not decoded. */
export type RawMessageArgs = [data: Buffer, isBinary: boolean]

/** The events of a socket; `Message` is what its 'message' listeners get (see MessageArgs). */
export interface WebSocketEvents<Message extends MessageArgs = RawMessageArgs> {
  message: Message
  /**
   * A message that broke the route's contract (`messageSchema`), on routes that handle them
   * (`onInvalidMessage: 'event'`); the connection stays open.
   */
  invalid: [error: InvalidMessageError, data: Buffer, isBinary: boolean]
  /** The outgoing queue emptied after a send returned false. */
  drain: []
  close: [code: number, reason: Buffer]
  error: [error: Error]
  ping: [data: Buffer]
  pong: [data: Buffer]
}
