import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { WebSocketStateError } from '../protocol/index.js'
import { Connection } from './connection.js'
import { createMessageIterator, type WebSocketMessage } from './message-iterator.js'
import { PauseReason } from './read-flow.js'
import { ReadyState } from './ready-state.js'
import { toBuffer, type WebSocketData } from './send-data.js'
import type { ConnectionInit, ConnectionSettings, MessageArgs, RawMessageArgs, SendCallback, WebSocketEvents, WebSocketOptions, WebSocketSendOptions } from './websocket-options.js'

export type { WebSocketData } from './send-data.js'
export { DEFAULT_CLOSE_TIMEOUT } from './websocket-options.js'
export type { WebSocketSendOptions, SendCallback, WebSocketOptions, ConnectionSettings, ConnectionInit, BackpressurePolicy, WebSocketEvents, MessageArgs, RawMessageArgs } from './websocket-options.js'

let construct: (stream: Duplex, settings: ConnectionSettings, init: ConnectionInit) => WebSocket
let connectionOfSocket: (socket: WebSocket<any, any>) => Connection

/**
 * A WebSocket connection, with the `ws` API: `message`, `close`, `error`, `ping`, `pong` and
 * `drain` events, `send`, `ping`, `pong`, `close`, `terminate`, `pause`, `resume`, `readyState`.
 * The plugin hands one to each websocket route handler; `connect()` and `app.injectWS()` return
 * client ones. This class shows only the documented API: the machinery lives in `Connection`.
 */
export class WebSocket<Message extends MessageArgs = RawMessageArgs, Outgoing = unknown> extends EventEmitter<WebSocketEvents<Message>> {
  static readonly CONNECTING = ReadyState.CONNECTING
  static readonly OPEN = ReadyState.OPEN
  static readonly CLOSING = ReadyState.CLOSING
  static readonly CLOSED = ReadyState.CLOSED
  // On the prototype (below), like the static ones: not four fields on every socket.
  declare readonly CONNECTING: typeof ReadyState.CONNECTING
  declare readonly OPEN: typeof ReadyState.OPEN
  declare readonly CLOSING: typeof ReadyState.CLOSING
  declare readonly CLOSED: typeof ReadyState.CLOSED

  /** The subprotocol the server selected, or '' when none was. */
  readonly protocol: string
  /**
   * The negotiated extensions, as the `Sec-WebSocket-Extensions` response header said them
   * (`permessage-deflate; ...` when compression is on), or '' for none.
   */
  readonly extensions: string

  readonly #connection: Connection

  static {
    for (const name of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const) {
      Object.defineProperty(this.prototype, name, { value: ReadyState[name], enumerable: true })
    }
    construct = (stream, settings, init) => new WebSocket(stream, settings, init)
    connectionOfSocket = (socket) => socket.#connection
  }

  private constructor (stream: Duplex, settings: ConnectionSettings, init: ConnectionInit) {
    super()
    this.protocol = init.protocol ?? ''
    this.extensions = init.perMessageDeflate?.header ?? ''
    // The machinery sees every socket the same way, whatever its message type.
    this.#connection = new Connection(this as unknown as WebSocket, stream, settings, init)
  }

  /** CONNECTING, OPEN, CLOSING or CLOSED (the WHATWG numbers). */
  get readyState (): ReadyState {
    return this.#connection.readyState
  }

  /** Bytes accepted by `send` but not yet handed to the operating system. */
  get bufferedAmount (): number {
    return this.#connection.bufferedAmount
  }

  /** Whether the application paused reading with `pause()`. */
  get isPaused (): boolean {
    return this.#connection.flow.has(PauseReason.App)
  }

  /**
   * Sends a message. Strings go as text; Buffers, TypedArrays, DataViews and ArrayBuffers as
   * binary, unless `options.binary` says otherwise. Returns false when the data was queued
   * behind a full buffer (wait for 'drain' before sending more) or not sent at all. The bytes
   * are not copied: do not change a Buffer until `callback` has run. On a closing or closed
   * socket nothing is sent and `callback` gets an error, as with `ws` and browsers.
   */
  send (data: WebSocketData, options?: WebSocketSendOptions | SendCallback, callback?: SendCallback): boolean {
    if (typeof options === 'function') {
      callback = options
      options = undefined
    }
    const fin = options?.fin ?? true
    const compress = options?.compress ?? true
    // Strings are encoded by the protocol, straight into the frame.
    if (typeof data === 'string') return this.#connection.send(data, options?.binary ?? false, fin, callback, compress)
    // Bytes forced to text are checked for UTF-8 by the connection, which knows whether they
    // are a whole message or one fragment of it (a fragment may end inside a character).
    const binary = options?.binary ?? true
    return this.#connection.send(toBuffer(data), binary, fin, callback, compress, !binary)
  }

  /**
   * Sends `value` as a JSON text message: serialised by the route's compiled `sendSchema`
   * (Fastify's serializer compiler, as for replies) when it has one, else `JSON.stringify`.
   * Same return value and callback as `send`.
   */
  sendJSON (value: Outgoing, options?: Pick<WebSocketSendOptions, 'compress'> | SendCallback, callback?: SendCallback): boolean {
    if (typeof options === 'function') {
      callback = options
      options = undefined
    }
    const codec = this.#connection.codec
    const text = codec === undefined ? JSON.stringify(value) : codec.serialize(value)
    if (typeof text !== 'string') throw new TypeError('sendJSON: the value has no JSON form (undefined, a function or a symbol)')
    return this.#connection.send(text, false, true, callback, options?.compress ?? true)
  }

  /**
   * Subscribes to a topic: `app.publish(topic, data)` then reaches this socket. A socket
   * leaves all its topics when it closes. Throws for a socket without a registry (clients).
   */
  subscribe (topic: string): void {
    const connection = this.#connection
    const registry = connection.registry
    if (registry === undefined) throw new WebSocketStateError('this socket has no topic registry (only server sockets can subscribe)')
    if (connection.readyState === ReadyState.CLOSED) return
    ;(connection.topics ??= new Set()).add(topic)
    registry.add(topic, this as unknown as WebSocket)
  }

  /** Leaves a topic. */
  unsubscribe (topic: string): void {
    const connection = this.#connection
    if (connection.topics?.delete(topic) !== true) return
    connection.registry?.delete(topic, this as unknown as WebSocket)
  }

  /** The topics this socket is subscribed to. */
  get topics (): ReadonlySet<string> {
    return this.#connection.topics ?? NO_TOPICS
  }

  /**
   * `for await (const { data, isBinary } of socket)`: every message, in order, until the
   * socket closes. Leaving the loop early closes the socket with 1000. When the loop falls
   * behind, reading from the connection pauses.
   */
  [Symbol.asyncIterator] (): AsyncIterableIterator<WebSocketMessage<Message>> {
    return createMessageIterator(this as WebSocket, this.#connection) as AsyncIterableIterator<WebSocketMessage<Message>>
  }

  /** Sends a ping (at most 125 bytes). Pongs come back as 'pong' events. */
  ping (data?: WebSocketData, mask?: boolean | SendCallback, callback?: SendCallback): void {
    this.#connection.sendControl('ping', data === undefined ? undefined : toBuffer(data), typeof mask === 'function' ? mask : callback)
  }

  /** Sends an unsolicited pong (at most 125 bytes). Pings are answered automatically. */
  pong (data?: WebSocketData, mask?: boolean | SendCallback, callback?: SendCallback): void {
    this.#connection.sendControl('pong', data === undefined ? undefined : toBuffer(data), typeof mask === 'function' ? mask : callback)
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2) with `code` (1000, 1001-1003, 1007-1014 or
   * 3000-4999) and a reason of at most 123 UTF-8 bytes; throws RangeError otherwise. Messages
   * that arrive afterwards are not delivered. The TCP connection is destroyed if the peer does
   * not complete the handshake within `closeTimeout`.
   */
  close (code?: number, reason?: string | Buffer): void {
    this.#connection.close(code, reason)
  }

  /** Destroys the connection at once, without a closing handshake. 'close' gets 1006. */
  terminate (): void {
    this.#connection.terminate()
  }

  /**
   * Stops delivering events and reading from the connection (incoming data waits in the
   * kernel). Takes effect before the next event, even inside a listener.
   */
  pause (): void {
    this.#connection.flow.add(PauseReason.App)
  }

  /** Resumes after `pause()`, unless something else holds reading back. */
  resume (): void {
    this.#connection.resumeFor(PauseReason.App)
  }
}

const NO_TOPICS: ReadonlySet<string> = new Set()

/**
 * Internal: a WebSocket over any Duplex (the plugin, the client and tests build them). The
 * connection keeps `settings` for its life; `init` is read once (it defaults to `settings`,
 * for callers that pass everything in one object).
 */
export function createWebSocket (stream: Duplex, settings: WebSocketOptions = {}, init: ConnectionInit = settings): WebSocket {
  return construct(stream, settings, init)
}

/** Internal: the machinery behind a socket (publish, iteration, the plugin's handler runner). */
export function connectionOf (socket: WebSocket<any, any>): Connection {
  return connectionOfSocket(socket)
}

/** Internal: the handler is ready; held events are delivered (see `holdEvents`). */
export function releaseEvents (socket: WebSocket<any, any>): void {
  connectionOfSocket(socket).release()
}
