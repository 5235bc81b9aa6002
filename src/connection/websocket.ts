import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import {
  CloseCode,
  WebSocketProtocol,
  WebSocketProtocolError,
  WebSocketStateError,
  type ProtocolHandler
} from '../protocol/index.js'
import type { ActivityCounters, HeartbeatScheduler } from './heartbeat.js'
import { createMessageIterator, type WebSocketMessage } from './message-iterator.js'
import { ReadyState } from './ready-state.js'
import { toBuffer, toPayload, type WebSocketData } from './send-data.js'
import { SocketWriter } from './socket-writer.js'
import type { TopicRegistry } from './topics.js'
import {
  DEFAULT_CLOSE_TIMEOUT,
  type BackpressurePolicy,
  type SendCallback,
  type WebSocketEvents,
  type WebSocketOptions,
  type WebSocketSendOptions
} from './websocket-options.js'

export type { WebSocketData } from './send-data.js'
export { DEFAULT_CLOSE_TIMEOUT } from './websocket-options.js'
export type { WebSocketSendOptions, SendCallback, WebSocketOptions, BackpressurePolicy, WebSocketEvents } from './websocket-options.js'

type HeldEvent = { [K in keyof WebSocketEvents]: [K, ...WebSocketEvents[K]] }[keyof WebSocketEvents]

/**
 * A server stops reading from a peer while this many bytes it wrote to that peer are still
 * queued: a client that floods pings (or messages to an echo) and never reads cannot grow our
 * write buffer without bound. Only the server side pauses, so two of our endpoints can never
 * wait on each other; clients always read.
 */
const WRITE_BACKLOG_PAUSE = 1024 * 1024

/**
 * A WebSocket connection over any Node `Duplex` (a TCP or TLS socket, or an in-memory
 * stream), with the `ws` API: `message`, `close`, `error`, `ping` and `pong` events,
 * `send`, `ping`, `pong`, `close`, `terminate`, `readyState`.
 *
 * Data flow:
 *
 *   Duplex 'data' ──► WebSocketProtocol.receive ──► handler ──► events (or held queue)
 *   send/ping/close ──► WebSocketProtocol ──► handler.write ──► SocketWriter (cork per tick)
 */
export class WebSocket extends EventEmitter<WebSocketEvents> implements ProtocolHandler {
  static readonly CONNECTING = ReadyState.CONNECTING
  static readonly OPEN = ReadyState.OPEN
  static readonly CLOSING = ReadyState.CLOSING
  static readonly CLOSED = ReadyState.CLOSED
  readonly CONNECTING = ReadyState.CONNECTING
  readonly OPEN = ReadyState.OPEN
  readonly CLOSING = ReadyState.CLOSING
  readonly CLOSED = ReadyState.CLOSED

  /** The subprotocol the server selected, or '' when none was. */
  readonly protocol: string
  /** Negotiated extensions; none are implemented yet, so always ''. */
  readonly extensions = ''

  readonly #stream: Duplex
  readonly #writer: SocketWriter
  readonly #protocol: WebSocketProtocol
  readonly #closeTimeout: number
  readonly #onUnhandledError: ((error: Error) => void) | undefined
  readonly #onClosed: ((socket: WebSocket) => void) | undefined
  #readyState: ReadyState = ReadyState.OPEN
  #closeTimer: NodeJS.Timeout | undefined
  /** The peer's close code and reason, once its close frame arrived. */
  #closeCode: number = CloseCode.Abnormal
  #closeReason = ''
  #errorEmitted = false
  /** Events queued while held (see `holdEvents`); null once released. */
  #held: HeldEvent[] | null
  /** Reading is paused until the transport drains (server role, see WRITE_BACKLOG_PAUSE). */
  #waitingForDrain = false
  /** Server role: closes TCP first after the closing handshake, pauses on a write backlog. */
  readonly #isServer: boolean
  #pendingCallback: SendCallback | undefined
  #paused = false
  readonly #maxBufferedAmount: number
  readonly #backpressurePolicy: BackpressurePolicy
  readonly #heartbeat: HeartbeatScheduler | undefined
  readonly #activity: ActivityCounters = { received: 0, messages: 0 }
  readonly #registry: TopicRegistry | undefined
  /** Topics this socket is subscribed to; created on the first subscribe. */
  #topics: Set<string> | undefined

  constructor (stream: Duplex, options: WebSocketOptions = {}) {
    super()
    this.#stream = stream
    this.#writer = new SocketWriter(stream)
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT
    this.#onUnhandledError = options.onUnhandledError
    this.#onClosed = options.onClosed
    this.#held = options.holdEvents === true ? [] : null
    this.#isServer = (options.role ?? 'server') === 'server'
    this.#maxBufferedAmount = options.maxBufferedAmount ?? Infinity
    this.#backpressurePolicy = options.backpressurePolicy ?? 'close'
    this.#heartbeat = options.heartbeat
    this.#registry = options.topics
    this.protocol = options.protocol ?? ''
    this.#protocol = new WebSocketProtocol(this, {
      role: options.role ?? 'server',
      maxMessageSize: options.maxMessageSize,
      maskKeySource: options.maskKeySource
    })

    const socket = stream as Partial<import('node:net').Socket>
    socket.setNoDelay?.(true)
    socket.setTimeout?.(0)
    stream.on('data', this.#onData)
    stream.on('end', this.#onEnd)
    stream.on('error', this.#onStreamError)
    stream.on('close', this.#onStreamClose)
    stream.on('drain', this.#onDrain)
    // Paused first: unshifting into a flowing stream emits 'data' synchronously, inside this
    // constructor. Resumed (if nothing holds it) on a later tick, after listeners attached.
    stream.pause()
    if (options.head !== undefined && options.head.length > 0 && !stream.readableEnded) stream.unshift(options.head)
    this.#updateFlow()
    this.#heartbeat?.watch(this, this.#activity)
    if (stream.destroyed) process.nextTick(this.#onStreamClose)
  }

  /** CONNECTING, OPEN, CLOSING or CLOSED (the WHATWG numbers). */
  get readyState (): ReadyState {
    return this.#readyState
  }

  /** Bytes of sent data not yet handed to the operating system. */
  get bufferedAmount (): number {
    return this.#writer.bufferedAmount
  }

  /** Whether reading from the transport is paused (`pause()`). */
  get isPaused (): boolean {
    return this.#paused
  }

  /**
   * Sends a message. Strings go as text, Buffers, TypedArrays, DataViews and ArrayBuffers as
   * binary, unless `options.binary` says otherwise. Returns false when the transport's
   * buffer is over its high-water mark (wait for the stream to drain before sending more).
   * On a closing or closed socket nothing is sent and `callback` gets an error, as with `ws`
   * and browsers: a send racing the peer's close is not a bug in your code.
   */
  send (data: WebSocketData, options?: WebSocketSendOptions | SendCallback, callback?: SendCallback): boolean {
    if (typeof options === 'function') {
      callback = options
      options = undefined
    }
    // Strings are encoded by the protocol, straight into the frame.
    let payload: Buffer | string
    let binary = options?.binary
    if (typeof data === 'string') {
      payload = data
      binary ??= false
    } else {
      const normalized = toPayload(data, binary)
      payload = normalized.payload
      binary = normalized.binary
    }
    if (!this.#canSend()) return this.#notSent('send', callback)
    if (this.#writer.bufferedAmount >= this.#maxBufferedAmount) return this.#overflow(callback)
    this.#activity.messages++
    this.#pendingCallback = callback
    try {
      this.#protocol.send(payload, { binary, fin: options?.fin })
    } finally {
      this.#pendingCallback = undefined
    }
    return !this.#writer.needsDrain
  }

  /**
   * @internal Writes a frame encoded once for many sockets (`publish`). Same rules as `send`
   * (not after close; backpressure policy) but the bytes are shared, never copied.
   */
  sendEncoded (chunks: Buffer[]): boolean {
    if (!this.#canSend()) return false
    if (this.#writer.bufferedAmount >= this.#maxBufferedAmount) return this.#overflow(undefined)
    this.#activity.messages++
    this.#protocol.sendEncoded(chunks)
    return true
  }

  /**
   * Subscribes to a topic: `app.publish(topic, data)` then reaches this socket. A socket
   * leaves all its topics when it closes. Throws for a socket without a registry (clients).
   */
  subscribe (topic: string): void {
    const registry = this.#requireRegistry()
    if (this.#readyState === ReadyState.CLOSED) return
    ;(this.#topics ??= new Set()).add(topic)
    registry.add(topic, this)
  }

  /** Leaves a topic. */
  unsubscribe (topic: string): void {
    if (this.#topics?.delete(topic) !== true) return
    this.#registry?.delete(topic, this)
  }

  /** The topics this socket is subscribed to. */
  get topics (): ReadonlySet<string> {
    return this.#topics ?? NO_TOPICS
  }

  /**
   * `for await (const { data, isBinary } of socket)`: every message, in order, until the
   * socket closes. Leaving the loop early closes the socket with 1000. When the loop falls
   * behind, reading from the connection pauses.
   */
  [Symbol.asyncIterator] (): AsyncIterableIterator<WebSocketMessage> {
    return createMessageIterator(this)
  }

  /** Sends a ping (at most 125 bytes). Pongs come back as 'pong' events. */
  ping (data?: WebSocketData, mask?: boolean | SendCallback, callback?: SendCallback): void {
    this.#sendControl('ping', data, typeof mask === 'function' ? mask : callback)
  }

  /** Sends an unsolicited pong (at most 125 bytes). Pings are answered automatically. */
  pong (data?: WebSocketData, mask?: boolean | SendCallback, callback?: SendCallback): void {
    this.#sendControl('pong', data, typeof mask === 'function' ? mask : callback)
  }

  #sendControl (kind: 'ping' | 'pong', data: WebSocketData | undefined, callback: SendCallback | undefined): void {
    const payload = data === undefined ? undefined : toBuffer(data)
    if (!this.#canSend()) {
      this.#notSent(kind, callback)
      return
    }
    this.#pendingCallback = callback
    try {
      if (kind === 'ping') this.#protocol.ping(payload)
      else this.#protocol.pong(payload)
    } finally {
      this.#pendingCallback = undefined
    }
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2) with `code` (1000, 1001-1003, 1007-1014 or
   * 3000-4999) and a reason of at most 123 UTF-8 bytes; throws RangeError otherwise. The TCP
   * connection is destroyed if the peer does not complete the handshake within `closeTimeout`.
   */
  close (code?: number, reason?: string | Buffer): void {
    if (this.#readyState === ReadyState.CLOSED) return
    const alreadySent = this.#protocol.closeSent
    this.#protocol.close(code, reason)
    if (alreadySent) return
    this.#readyState = ReadyState.CLOSING
    if (this.#protocol.closeReceived) this.#closingHandshakeDone()
    else this.#startCloseTimer()
  }

  /** Destroys the connection at once, without a closing handshake. 'close' gets 1006. */
  terminate (): void {
    if (this.#readyState === ReadyState.CLOSED) return
    this.#readyState = ReadyState.CLOSING
    this.#stream.destroy()
  }

  /** Stops reading from the transport (incoming messages wait in the kernel). */
  pause (): void {
    this.#paused = true
    this.#updateFlow()
  }

  /** Resumes reading after `pause()`. */
  resume (): void {
    this.#paused = false
    this.#updateFlow()
  }

  /**
   * Delivers the events held since the socket was created (see `holdEvents`), in order, and
   * emits new ones directly from now on. Safe to call more than once.
   */
  releaseEvents (): void {
    const held = this.#held
    if (held === null) return
    this.#held = null
    for (const event of held) this.#emitNow(event)
    this.#updateFlow()
  }

  // ProtocolHandler: called synchronously by the protocol.

  /** @internal */
  write (chunk: Buffer, endOfFrame: boolean): void {
    if (endOfFrame && this.#pendingCallback !== undefined) {
      const callback = this.#pendingCallback
      this.#pendingCallback = undefined
      this.#writer.write(chunk, callback)
    } else {
      this.#writer.write(chunk)
    }
  }

  /** @internal */
  onMessage (data: Buffer, isBinary: boolean): void {
    this.#activity.messages++
    if (this.#held === null) this.emit('message', data, isBinary)
    else this.#held.push(['message', data, isBinary])
  }

  /** @internal */
  onPing (data: Buffer): void {
    this.#dispatch(['ping', data])
  }

  /** @internal */
  onPong (data: Buffer): void {
    this.#dispatch(['pong', data])
  }

  /** @internal */
  onClose (code: number, reason: string): void {
    this.#closeCode = code
    this.#closeReason = reason
    this.#readyState = ReadyState.CLOSING
    this.#closingHandshakeDone()
  }

  /**
   * Both close frames are out. §7.1.1: the server closes TCP first; the client waits for that
   * (its 'end' handler then ends our side), and gives up after the close timeout.
   */
  #closingHandshakeDone (): void {
    if (this.#isServer) this.#endTransport()
    else this.#startCloseTimer()
  }

  /** @internal */
  onProtocolError (error: WebSocketProtocolError): void {
    this.#readyState = ReadyState.CLOSING
    this.#dispatch(['error', error])
    // §7.1.7: after failing, close the connection; the close frame is flushed first.
    this.#endTransport()
  }

  // Transport events.

  readonly #onData = (chunk: Buffer): void => {
    this.#activity.received++
    this.#protocol.receive(chunk)
    if (this.#isServer && !this.#waitingForDrain && this.#writer.bufferedAmount >= WRITE_BACKLOG_PAUSE) {
      this.#waitingForDrain = true
      this.#updateFlow()
    }
  }

  readonly #onDrain = (): void => {
    if (this.#waitingForDrain) {
      this.#waitingForDrain = false
      this.#updateFlow()
    }
    if (this.#readyState === ReadyState.OPEN) this.#dispatch(['drain'])
  }

  /** Reads unless someone asked for a pause: the user, held events, or a write backlog. */
  #updateFlow (): void {
    if (this.#readyState === ReadyState.CLOSED) return
    if (this.#paused || this.#held !== null || this.#waitingForDrain) this.#stream.pause()
    else this.#stream.resume()
  }

  readonly #onEnd = (): void => {
    this.#protocol.receiveEnd()
    // Sockets from an HTTP upgrade allow half-open connections and Node no longer ends them
    // for us: without this, a peer that leaves without a close frame leaks the socket.
    if (this.#readyState !== ReadyState.CLOSED) this.#readyState = ReadyState.CLOSING
    this.#writer.flush()
    this.#stream.end()
    this.#startCloseTimer()
  }

  readonly #onStreamError = (): void => {
    // Transport errors (ECONNRESET, EPIPE) end the connection; 'close' reports 1006.
    this.#stream.destroy()
  }

  readonly #onStreamClose = (): void => {
    if (this.#readyState === ReadyState.CLOSED) return
    this.#readyState = ReadyState.CLOSED
    this.#protocol.receiveEnd()
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer)
    this.#closeTimer = undefined
    this.#stream.removeListener('data', this.#onData)
    this.#stream.removeListener('end', this.#onEnd)
    this.#stream.removeListener('drain', this.#onDrain)
    const code = this.#protocol.closeReceived ? this.#closeCode : CloseCode.Abnormal
    const reason = this.#protocol.closeReceived ? Buffer.from(this.#closeReason) : Buffer.alloc(0)
    this.#heartbeat?.unwatch(this)
    if (this.#topics !== undefined) {
      for (const topic of this.#topics) this.#registry?.delete(topic, this)
      this.#topics = undefined
    }
    this.#onClosed?.(this)
    this.#dispatch(['close', code, reason])
  }

  #endTransport (): void {
    this.#writer.flush()
    this.#stream.end()
    this.#startCloseTimer()
  }

  #startCloseTimer (): void {
    if (this.#closeTimer !== undefined || this.#readyState === ReadyState.CLOSED) return
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = undefined
      this.#stream.destroy()
    }, this.#closeTimeout)
    this.#closeTimer.unref?.()
  }

  /**
   * Whether data and pings may go out: the protocol allows it (no close frame sent, not failed,
   * not ended) and the transport is still ours (not terminated, not destroyed under us).
   */
  #canSend (): boolean {
    return this.#readyState === ReadyState.OPEN && !this.#stream.destroyed && this.#protocol.canSend()
  }

  /**
   * The outgoing queue is over `maxBufferedAmount`: a slow reader. Either fail the connection
   * with 1008 or drop this message, as configured.
   */
  #overflow (callback: SendCallback | undefined): false {
    if (this.#backpressurePolicy === 'close') {
      this.close(CloseCode.PolicyViolation, 'outgoing queue over its limit')
    }
    if (callback !== undefined) {
      process.nextTick(callback, new WebSocketStateError(`message not sent: ${this.#writer.bufferedAmount} bytes already queued (maxBufferedAmount ${this.#maxBufferedAmount})`))
    }
    return false
  }

  #requireRegistry (): TopicRegistry {
    if (this.#registry === undefined) throw new WebSocketStateError('this socket has no topic registry (only server sockets can subscribe)')
    return this.#registry
  }

  #notSent (what: string, callback: SendCallback | undefined): false {
    if (this.#readyState === ReadyState.CONNECTING) throw new WebSocketStateError(`cannot ${what}: the WebSocket is not open yet`)
    if (callback !== undefined) {
      const error = new WebSocketStateError(`cannot ${what}: the WebSocket is ${this.#readyState === ReadyState.CLOSED ? 'closed' : 'closing'}`)
      process.nextTick(callback, error)
    }
    return false
  }

  #dispatch (event: HeldEvent): void {
    const held = this.#held
    if (held === null) {
      this.#emitNow(event)
      return
    }
    held.push(event)
  }

  #emitNow (event: HeldEvent): void {
    if (event[0] === 'error') {
      // 'error' is emitted at most once, and never crashes a process that did not listen.
      if (this.#errorEmitted) return
      this.#errorEmitted = true
      if (this.listenerCount('error') > 0) this.emit('error', event[1])
      else this.#onUnhandledError?.(event[1])
      return
    }
    ;(this.emit as (...args: unknown[]) => boolean)(...event)
  }
}

const NO_TOPICS: ReadonlySet<string> = new Set()
