import { isUtf8 } from 'node:buffer'
import type { Duplex } from 'node:stream'
import { PENDING, maxCompressedPayloadSize, type InflateOutcome } from '../compression/index.js'
import {
  CloseCode,
  DEFAULT_MAX_MESSAGE_SIZE,
  ProtocolEvent,
  WebSocketProtocol,
  WebSocketProtocolError,
  Utf8Validator,
  WebSocketStateError,
  encodeClosePayload,
  truncateCloseReason
} from '../protocol/index.js'
import { ConnectionCompression, type CompressionHost } from './connection-compression.js'
import { channels, type CloseInitiator } from './diagnostics.js'
import { InvalidMessageError, type MessageCodec } from './message-codec.js'
import type { PublishedMessage } from './published-message.js'
import { PauseReason, ReadFlow } from './read-flow.js'
import { ReadyState } from './ready-state.js'
import { SocketWriter, type FlushObserver } from './socket-writer.js'
import type { TopicRegistry } from './topics.js'
import {
  DEFAULT_CLOSE_TIMEOUT,
  type BackpressurePolicy,
  type ConnectionInit,
  type ConnectionSettings,
  type SendCallback
} from './websocket-options.js'
import type { WebSocket } from './websocket.js'

/**
 * A server stops reading from a peer while at least this many bytes it wrote to that peer are
 * waiting in the transport (or the transport's own high-water mark, if larger), and resumes on
 * the transport's 'drain': a client that floods pings (or messages to an echo) and never reads
 * cannot grow our write buffer without bound. The pause is taken only when the stream says it
 * needs a drain, so the 'drain' that lifts it is sure to come. Only servers pause this way, so
 * two of our endpoints never wait on each other; clients always read.
 */
const WRITE_BACKLOG_PAUSE = 1024 * 1024

/**
 * The machinery behind one `WebSocket` (the protocol adapter): it owns the transport, the
 * protocol, the writer, the read flow and the close timer, pulls events from the protocol and
 * emits them on the public socket. Internal: users hold the `WebSocket`, whose type shows only
 * the documented API.
 *
 * Data flow:
 *
 *   Duplex 'data' ──► protocol.receive ──► deliver(): while delivery may go on,
 *                                            protocol.next() ──► emit on the WebSocket
 *   send/ping/close ──► protocol ──► SocketWriter (one stream write per tick)
 *   after each pass: protocol.transportAction ──► end the transport / wait for the peer's
 */
export class Connection implements FlushObserver, CompressionHost {
  readonly socket: WebSocket
  readonly stream: Duplex
  readonly writer: SocketWriter
  readonly protocol: WebSocketProtocol
  readonly flow: ReadFlow
  /** permessage-deflate, when it was negotiated (RFC 7692); null otherwise. */
  readonly compression: ConnectionCompression | null
  readonly isServer: boolean
  readyState: ReadyState = ReadyState.OPEN
  /** Chunks received (any byte from the peer proves it is alive); the heartbeat compares it. */
  received = 0
  /** Data messages received or sent (what `idleTimeout` watches). */
  messages = 0
  /** Topics this socket is subscribed to; created on the first subscribe. */
  topics: Set<string> | undefined = undefined
  readonly registry: TopicRegistry | undefined
  /** Shared by the connections of a route: nothing per socket that could live there. */
  private readonly settings: ConnectionSettings
  /** Given to `onUnhandledError` (the upgrade's request id, on servers). */
  private readonly label: string | undefined
  private closeTimer: NodeJS.Timeout | undefined = undefined
  private delivering = false
  private deliveryScheduled = false
  /** 'error' is emitted at most once. */
  private errorReported = false
  /** Held until release: an error and the final close that happened while events were held. */
  private heldError: Error | undefined = undefined
  private heldClose = false
  /** A send returned false: the next transport 'drain' is reported as the socket's 'drain'. */
  private drainWanted = false
  /** We are sending a fragmented message (its final `send` is owed), queued parts included. */
  private fragmenting = false
  /** A close asked for while compressed messages still wait to be written: sent after them. */
  private pendingClose: { code: number | undefined, reason: string | Buffer | undefined } | undefined = undefined
  /** Checks text we send in fragments (created with the first such message). */
  private outgoingText: Utf8Validator | undefined = undefined
  /** Whether the message being inflated in the thread pool is binary. */
  private inflatingBinary = false
  /** Who started the closing handshake, once someone did. */
  private closeInitiator: CloseInitiator | undefined = undefined
  /** When the connection opened (for the closed channel's duration). */
  private readonly openedAt = Date.now()

  constructor (socket: WebSocket, stream: Duplex, settings: ConnectionSettings, init: ConnectionInit) {
    this.socket = socket
    this.stream = stream
    this.settings = settings
    this.label = init.label
    this.isServer = (settings.role ?? 'server') === 'server'
    this.registry = settings.topics
    this.writer = new SocketWriter(stream, this.isServer ? this : undefined)
    const maxMessageSize = settings.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    const deflate = init.perMessageDeflate
    this.protocol = new WebSocketProtocol(this.writer, {
      role: settings.role ?? 'server',
      maxMessageSize,
      maskKeySource: settings.maskKeySource,
      autoPong: settings.autoPong,
      compression: deflate !== undefined,
      maxCompressedMessageSize: maxCompressedPayloadSize(maxMessageSize)
    })
    this.compression = deflate === undefined ? null : new ConnectionCompression(deflate, settings.role ?? 'server', maxMessageSize, this)
    this.flow = new ReadFlow(stream, init.holdEvents === true ? PauseReason.Held : 0)

    const socketLike = stream as Partial<import('node:net').Socket>
    socketLike.setNoDelay?.(true)
    socketLike.setTimeout?.(0)
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onStreamError)
    stream.on('close', onStreamClose)
    stream.on('drain', onDrain)
    ;(stream as StreamWithConnection)[kConnection] = this
    // The flow took the stream over paused: unshifting into a flowing stream would emit 'data'
    // synchronously, inside this constructor. Resumed (unless held) on a later tick, after the
    // caller attached listeners.
    if (init.head !== undefined && init.head.length > 0 && !stream.readableEnded) stream.unshift(init.head)
    this.flow.apply()
    settings.heartbeat?.watch(this)
    if (channels.connectionOpened.hasSubscribers) {
      channels.connectionOpened.publish({ socket, route: settings.route, protocol: init.protocol ?? '', extensions: deflate?.header ?? '' })
    }
    if (stream.destroyed) process.nextTick(closeIfDestroyed, this)
  }

  /** The route's typed-message codec, if it has one. */
  get codec (): MessageCodec | undefined {
    return this.settings.messageCodec
  }

  /** Bytes accepted by `send` but not yet handed to the operating system. */
  get bufferedAmount (): number {
    const queued = this.compression === null ? 0 : this.compression.queuedBytes
    return this.writer.bufferedAmount + this.protocol.deferredBytes + queued
  }

  // --- Delivery --------------------------------------------------------------------------

  /**
   * Pulls events from the protocol and emits them while delivery may go on: checked before
   * every event, so `pause()`, `close()` or `terminate()` in a listener stops the next one.
   * Re-entrant calls (a listener calling `resume()`) return at once: the running loop goes on.
   */
  deliver (): void {
    if (this.delivering) return
    this.delivering = true
    const protocol = this.protocol
    try {
      while (this.mayPull()) {
        const event = protocol.next()
        if (event === ProtocolEvent.None) break
        this.dispatch(event)
      }
    } finally {
      this.delivering = false
    }
    this.applyTransportAction()
  }

  /** Delivers on a later tick (when reading resumes outside a listener). */
  scheduleDelivery (): void {
    if (this.deliveryScheduled) return
    this.deliveryScheduled = true
    process.nextTick(deliverOnTick, this)
  }

  /** The tick `scheduleDelivery` asked for. */
  deliverScheduled (): void {
    this.deliveryScheduled = false
    this.deliver()
  }

  private mayPull (): boolean {
    // Terminated, reset, or closed: nothing more is delivered.
    if (this.stream.destroyed) return false
    const state = this.protocol.state
    if (state === 'open') return this.flow.reasons === 0
    // Closing always reads: after our close frame, on to the peer's (RFC 6455 §7.1.2).
    return state === 'close-sent'
  }

  private dispatch (event: ProtocolEvent): void {
    const protocol = this.protocol
    switch (event) {
      case ProtocolEvent.Message:
        // After our close (or a failure) messages are dropped, as browsers do: the app said it
        // is done with this connection.
        if (protocol.state !== 'open') return
        if (protocol.compressed) return this.inflate(protocol.data, protocol.isBinary)
        this.emitMessage(protocol.data, protocol.isBinary)
        return
      case ProtocolEvent.Ping:
        if (protocol.state === 'open') this.socket.emit('ping', protocol.data)
        return
      case ProtocolEvent.Pong:
        if (protocol.state === 'open') this.socket.emit('pong', protocol.data)
        return
      case ProtocolEvent.Close:
        this.closeInitiator ??= 'client'
        if (this.readyState === ReadyState.OPEN) this.readyState = ReadyState.CLOSING
        return
      case ProtocolEvent.Error:
        this.failed(protocol.error as WebSocketProtocolError)
    }
  }

  private emitMessage (data: Buffer, isBinary: boolean, compressed = false): void {
    this.messages++
    const counters = this.settings.counters
    if (counters !== undefined) {
      counters.messagesIn++
      counters.bytesIn += data.length
    }
    if (channels.messageReceived.hasSubscribers) channels.messageReceived.publish({ socket: this.socket, size: data.length, binary: isBinary, compressed })
    const codec = this.settings.messageCodec
    if (codec === undefined) {
      this.socket.emit('message', data, isBinary)
      return
    }
    const value = codec.decode(data, isBinary)
    if (!(value instanceof InvalidMessageError)) {
      this.socket.emit('message', value as Buffer, isBinary)
      return
    }
    if (codec.onInvalid === 'event') {
      this.socket.emit('invalid', value, data, isBinary)
      return
    }
    // RFC 6455 §7.4.1: 1007, data inconsistent with the message's type (or 1003, a type the
    // route does not accept); the reason says where, never more.
    this.close(value.closeCode, truncateCloseReason(value.message))
  }

  /** The peer broke the protocol (the failing close frame is out): report it once. */
  private failed (error: WebSocketProtocolError): void {
    this.closeInitiator ??= 'server'
    this.readyState = ReadyState.CLOSING
    if (channels.protocolError.hasSubscribers) channels.protocolError.publish({ socket: this.socket, code: error.code, closeCode: error.closeCode })
    this.reportError(error)
  }

  /** Counts and reports a message accepted for sending. */
  private sent (size: number, binary: boolean, compressed: boolean): void {
    const counters = this.settings.counters
    if (counters !== undefined) {
      counters.messagesOut++
      counters.bytesOut += size
    }
    if (channels.messageSent.hasSubscribers) channels.messageSent.publish({ socket: this.socket, size, binary, compressed })
  }

  /**
   * A message that arrived compressed (RFC 7692 §7.2.2). Small ones inflate at once; a large
   * one goes to the thread pool, and delivery waits for it (the Inflate reason) so every
   * later event keeps its place.
   */
  private inflate (data: Buffer, isBinary: boolean): void {
    const outcome = (this.compression as ConnectionCompression).inflate(data, !isBinary)
    if (outcome === PENDING) {
      this.inflatingBinary = isBinary
      this.flow.add(PauseReason.Inflate)
      return
    }
    this.deliverInflated(outcome, isBinary)
  }

  /** CompressionHost: the thread pool inflated a message; deliver it, then go on. */
  inflated (outcome: InflateOutcome): void {
    this.flow.remove(PauseReason.Inflate)
    if (this.protocol.state === 'open' && !this.stream.destroyed) this.deliverInflated(outcome, this.inflatingBinary)
    this.deliver()
  }

  private deliverInflated (outcome: InflateOutcome, isBinary: boolean): void {
    if (Buffer.isBuffer(outcome)) return this.emitMessage(outcome, isBinary, true)
    // 1009 (too big once inflated) or 1007 (invalid data, or invalid UTF-8 in text).
    this.protocol.fail(outcome)
    this.failed(outcome)
  }

  /** Does what the protocol says about the transport (RFC 6455 §7.1.1, §7.1.7). */
  private applyTransportAction (): void {
    switch (this.protocol.transportAction) {
      case 'close':
        this.endTransport()
        return
      case 'await-close':
        this.startCloseTimer()
    }
  }

  // --- Commands --------------------------------------------------------------------------

  /** Whether data and pings may go out: open, and the transport still ours. */
  canSend (): boolean {
    return this.readyState === ReadyState.OPEN && !this.stream.destroyed && this.protocol.canSend()
  }

  /**
   * Sends a data frame. `compress: false` opts a message out of permessage-deflate; only whole
   * messages over `threshold` are compressed (a fragment never is: RFC 7692 allows either).
   */
  send (payload: Buffer | string, binary: boolean, fin: boolean, callback: SendCallback | undefined, compress = true, checkText = false): boolean {
    if (checkText) this.checkOutgoingText(payload as Buffer, fin)
    if (!this.canSend()) return this.notSent('send', callback)
    // The rest of a message already begun is never dropped: without its final fragment no
    // other message could ever be sent on this connection (RFC 6455 §5.4).
    if (this.bufferedAmount >= this.maxBufferedAmount && !this.fragmenting) return this.overflow(callback)
    this.messages++
    const compression = this.compression
    if (compression === null) {
      this.sent(this.writeMessage(payload, binary, fin, false, callback), binary, false)
    } else {
      const whole = fin && !this.fragmenting
      const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
      const compressed = whole && compress && compression.shouldCompress(size)
      compression.send(payload, binary, fin, compressed, callback)
      this.sent(size, binary, compressed)
    }
    this.fragmenting = !fin
    if (this.writer.needsDrain) {
      this.drainWanted = true
      return false
    }
    return true
  }

  /**
   * Bytes sent as text must be UTF-8 (RFC 6455 §5.6: the peer would fail the connection with
   * 1007). A whole message is checked at once; the fragments of one are checked as a stream,
   * so a fragment may end inside a character that the next one completes. Throws TypeError.
   */
  private checkOutgoingText (payload: Buffer, fin: boolean): void {
    if (!this.fragmenting && fin) {
      if (!isUtf8(payload)) throw new TypeError('data sent as text is not valid UTF-8')
      return
    }
    const validator = this.outgoingText ??= new Utf8Validator()
    if (!this.fragmenting) validator.reset()
    if (!validator.write(payload) || (fin && validator.incomplete)) {
      validator.reset()
      throw new TypeError('data sent as text is not valid UTF-8')
    }
  }

  /** A message published to a topic: same rules as `send`; its frame is shared, never copied. */
  sendPublished (message: PublishedMessage): boolean {
    if (!this.canSend()) return false
    if (this.bufferedAmount >= this.maxBufferedAmount) return this.overflow(undefined)
    this.messages++
    if (this.compression === null) this.protocol.sendEncoded(message.plainFrame())
    else this.compression.sendPublished(message)
    this.sent(message.payload.length, message.binary, this.compression?.shouldCompress(message.payload.length) ?? false)
    return true
  }

  /** CompressionHost: writes a data frame now; returns its payload bytes. */
  writeMessage (payload: Buffer | string, binary: boolean, fin: boolean, compressed: boolean, callback: SendCallback | undefined): number {
    this.writer.nextCallback = callback
    return this.protocol.send(payload, binary, fin, compressed)
  }

  /** CompressionHost: writes pre-encoded frame chunks now. */
  writeEncoded (chunks: Buffer[]): void {
    this.protocol.sendEncoded(chunks)
  }

  /** CompressionHost: whether queued frames may still be written. */
  canWrite (): boolean {
    return this.protocol.canSend() && !this.stream.destroyed
  }

  /* c8 ignore start: zlib fails only when out of memory */
  /** CompressionHost: compressing failed on our side; nothing internal goes to the peer. */
  compressionFailed (error: Error): void {
    this.reportError(error)
    this.closeNow(CloseCode.InternalError, undefined)
  }
  /* c8 ignore stop */

  /** CompressionHost: the queue behind a compression is written; a waiting close goes now. */
  queueDrained (): void {
    const pending = this.pendingClose
    if (pending === undefined) return
    this.pendingClose = undefined
    this.closeNow(pending.code, pending.reason)
  }

  sendControl (kind: 'ping' | 'pong', payload: Buffer | undefined, callback: SendCallback | undefined): void {
    if (!this.canSend()) {
      this.notSent(kind, callback)
      return
    }
    this.writer.nextCallback = callback
    try {
      if (kind === 'ping') this.protocol.ping(payload)
      else this.protocol.pong(payload)
    } finally {
      this.writer.nextCallback = undefined
    }
  }

  /**
   * Starts the closing handshake; reading goes on until the peer's close or the timeout. With
   * messages still being compressed, the close frame follows them (they were sent first).
   */
  close (code: number | undefined, reason: string | Buffer | undefined): void {
    if (this.readyState === ReadyState.CLOSED) return
    // Checks code and reason (RangeError) even when there is nothing left to close.
    encodeClosePayload(code, reason)
    if (this.protocol.state !== 'open' || this.pendingClose !== undefined) return
    if (this.compression?.busy === true) {
      this.pendingClose = { code, reason }
      this.readyState = ReadyState.CLOSING
      this.startCloseTimer()
      return
    }
    this.closeNow(code, reason)
  }

  private closeNow (code: number | undefined, reason: string | Buffer | undefined): void {
    if (this.protocol.state !== 'open') return
    this.closeInitiator ??= 'server'
    this.protocol.close(code, reason)
    this.readyState = ReadyState.CLOSING
    this.startCloseTimer()
    if (this.flow.startClosing() || this.protocol.bufferedInput > 0) this.scheduleDelivery()
  }

  /** Destroys the transport at once; 'close' reports 1006. */
  terminate (): void {
    if (this.readyState === ReadyState.CLOSED) return
    this.readyState = ReadyState.CLOSING
    this.stream.destroy()
  }

  /** Removes a pause reason; delivery resumes on a later tick if nothing else holds it. */
  resumeFor (reason: PauseReason): void {
    if (this.flow.remove(reason)) this.scheduleDelivery()
  }

  /**
   * The handler is ready: emits what happened while events were held (an error, the close),
   * and starts reading. Safe to call more than once.
   */
  release (): void {
    if (!this.flow.has(PauseReason.Held)) return
    this.resumeFor(PauseReason.Held)
    const error = this.heldError
    this.heldError = undefined
    if (error !== undefined) this.emitError(error)
    if (this.heldClose) {
      this.heldClose = false
      this.emitClose()
    }
  }

  private get maxBufferedAmount (): number {
    return this.settings.maxBufferedAmount ?? Infinity
  }

  private get backpressurePolicy (): BackpressurePolicy {
    return this.settings.backpressurePolicy ?? 'close'
  }

  /**
   * The outgoing queue is over `maxBufferedAmount`: a slow reader. Either fail the connection
   * with 1008 or drop this message, as configured.
   */
  private overflow (callback: SendCallback | undefined): false {
    const queued = this.bufferedAmount
    if (channels.backpressure.hasSubscribers) channels.backpressure.publish({ socket: this.socket, policy: this.backpressurePolicy, bufferedAmount: queued })
    if (this.backpressurePolicy === 'close') this.close(CloseCode.PolicyViolation, 'outgoing queue over its limit')
    if (callback !== undefined) {
      process.nextTick(callback, new WebSocketStateError(`message not sent: ${queued} bytes already queued (maxBufferedAmount ${this.maxBufferedAmount})`))
    }
    return false
  }

  private notSent (what: string, callback: SendCallback | undefined): false {
    if (callback !== undefined) {
      const error = new WebSocketStateError(`cannot ${what}: the WebSocket is ${this.readyState === ReadyState.CLOSED ? 'closed' : 'closing'}`)
      process.nextTick(callback, error)
    }
    return false
  }

  // --- Transport -------------------------------------------------------------------------

  onData (chunk: Buffer): void {
    this.received++
    this.protocol.receive(chunk)
    this.deliver()
  }

  /** FlushObserver: a server pauses reading while its replies pile up (WRITE_BACKLOG_PAUSE). */
  afterFlush (): void {
    const stream = this.stream
    if (!stream.writableNeedDrain || this.flow.has(PauseReason.WriteBacklog)) return
    if (stream.writableLength >= Math.max(WRITE_BACKLOG_PAUSE, stream.writableHighWaterMark)) {
      this.flow.add(PauseReason.WriteBacklog)
    }
  }

  onDrain (): void {
    this.resumeFor(PauseReason.WriteBacklog)
    if (this.drainWanted && this.readyState === ReadyState.OPEN) {
      this.drainWanted = false
      this.socket.emit('drain')
    }
  }

  /**
   * The peer sent FIN. What it sent before is still delivered (when delivery may go on); then
   * the transport is closed. Sockets from an HTTP upgrade allow half-open connections and Node
   * no longer ends them for us: without this, a peer that leaves without a close frame would
   * leak the socket.
   */
  onEnd (): void {
    this.protocol.receiveEnd()
    this.deliver()
    if (this.protocol.transportAction !== 'keep') this.endTransport()
    else this.startCloseTimer()
  }

  onStreamClose (): void {
    if (this.readyState === ReadyState.CLOSED) return
    this.readyState = ReadyState.CLOSED
    const stream = this.stream
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer)
    this.closeTimer = undefined
    stream.removeListener('data', onData)
    stream.removeListener('end', onEnd)
    stream.removeListener('drain', onDrain)
    this.settings.heartbeat?.unwatch(this)
    this.compression?.close()
    if (this.topics !== undefined) {
      for (const topic of this.topics) this.registry?.delete(topic, this.socket)
      this.topics = undefined
    }
    const code = this.reportedCloseCode
    this.settings.counters?.closed(code)
    if (channels.connectionClosed.hasSubscribers) {
      channels.connectionClosed.publish({ socket: this.socket, route: this.settings.route, code, initiator: this.closeInitiator ?? 'abnormal', durationMs: Date.now() - this.openedAt })
    }
    this.settings.onClosed?.(this.socket)
    if (this.flow.has(PauseReason.Held)) this.heldClose = true
    else this.emitClose()
  }

  private emitClose (): void {
    const protocol = this.protocol
    const received = protocol.closeReceived
    this.socket.emit('close', received ? protocol.closeCode : CloseCode.Abnormal, received ? Buffer.from(protocol.closeReason) : EMPTY)
  }

  /** The close code 'close' reports (1006 when no close frame came). */
  private get reportedCloseCode (): number {
    return this.protocol.closeReceived ? this.protocol.closeCode : CloseCode.Abnormal
  }

  /** 'error' at most once, and never thrown at a process that does not listen for it. */
  private reportError (error: Error): void {
    if (this.errorReported) return
    this.errorReported = true
    if (this.flow.has(PauseReason.Held)) this.heldError = error
    else this.emitError(error)
  }

  private emitError (error: Error): void {
    if (this.socket.listenerCount('error') > 0) this.socket.emit('error', error)
    else this.settings.onUnhandledError?.(error, this.label)
  }

  /** Flushes what is queued, sends FIN, and destroys the transport if the peer lingers. */
  private endTransport (): void {
    if (this.readyState === ReadyState.OPEN) this.readyState = ReadyState.CLOSING
    this.writer.flush()
    if (!this.stream.writableEnded) this.stream.end()
    this.startCloseTimer()
  }

  private startCloseTimer (): void {
    if (this.closeTimer !== undefined || this.readyState === ReadyState.CLOSED) return
    this.closeTimer = setTimeout(destroyOnTimeout, this.settings.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT, this)
    this.closeTimer.unref?.()
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * Each stream carries its connection under this symbol, so the stream listeners can be shared
 * functions rather than five closures per connection (idle memory is per connection, times
 * 10 000), and finding the connection costs a property load.
 */
const kConnection = Symbol('fastify-websocket-native.connection')
type StreamWithConnection = Duplex & { [kConnection]: Connection }

function onData (this: StreamWithConnection, chunk: Buffer): void {
  this[kConnection].onData(chunk)
}

function onEnd (this: StreamWithConnection): void {
  this[kConnection].onEnd()
}

function onDrain (this: StreamWithConnection): void {
  this[kConnection].onDrain()
}

function onStreamClose (this: StreamWithConnection): void {
  this[kConnection].onStreamClose()
}

/** Transport errors (ECONNRESET, EPIPE) end the connection; 'close' reports 1006. */
function onStreamError (this: Duplex): void {
  this.destroy()
}

function deliverOnTick (connection: Connection): void {
  connection.deliverScheduled()
}

function destroyOnTimeout (connection: Connection): void {
  connection.stream.destroy()
}

function closeIfDestroyed (connection: Connection): void {
  connection.onStreamClose()
}
