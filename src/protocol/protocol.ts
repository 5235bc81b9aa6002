import { CloseCode, MAX_CONTROL_PAYLOAD, Opcode } from './constants.js'
import { encodeClosePayload, parseClosePayload, truncateCloseReason } from './close-frame.js'
import { WebSocketProtocolError, WebSocketStateError } from './errors.js'
import { FrameParser, type FrameSink } from './frame-parser.js'
import { SMALL_FRAME_COPY_LIMIT, encodeFrame, headerSize, writeFrameHeader } from './frame-serializer.js'
import { DEFAULT_MAX_MESSAGE_SIZE, assertByteLimit } from './limits.js'
import { randomMaskKey } from './mask.js'
import { MessageAssembler } from './message-assembler.js'

/** Where the bytes to send go, in order. The protocol never reuses a buffer it passed here. */
export interface FrameOutput {
  /** `endOfFrame` marks a frame's last chunk (a send callback belongs there). */
  write (chunk: Buffer, endOfFrame: boolean): void
  /**
   * Optional, for small unmasked frames: `size` bytes of room in a buffer shared by this
   * tick's frames, written in place at `reservedAt` and then handed over with `commit(size)`
   * (a whole frame: header, then payload). No buffer, array or copy per frame.
   */
  reserve?: (size: number) => Buffer
  /** Where the room `reserve` gave starts. */
  readonly reservedAt?: number
  /** The `size` bytes written at `reservedAt` are a whole frame, ready to go. */
  commit?: (size: number) => void
}

/** What `next()` found: one event, or None when it needs more input. */
export const ProtocolEvent = {
  None: 0,
  /** A complete data message: `data`, `isBinary`, `compressed`. */
  Message: 1,
  /** A ping (`data`); its pong has been queued (§5.5.2), unless we are closing or `autoPong` is off. */
  Ping: 2,
  /** A pong (`data`). */
  Pong: 3,
  /** The peer's close frame (`closeCode`, `closeReason`); the echo has been queued if needed. */
  Close: 4,
  /** The peer broke the protocol (`error`); the failing close frame has been queued. */
  Error: 5
} as const
export type ProtocolEvent = (typeof ProtocolEvent)[keyof typeof ProtocolEvent]

/**
 * Where the connection stands (RFC 6455 §7).
 * - `open`: messages flow both ways.
 * - `close-sent`: we sent a close frame and wait for the peer's; input is still read (§7.1.2).
 * - `closed`: both close frames were exchanged: the closing handshake is complete.
 * - `failed`: we failed the connection (§7.1.7): the peer's error, or `fail()`.
 * - `ended`: the transport ended before the closing handshake completed.
 */
export type ProtocolState = 'open' | 'close-sent' | 'closed' | 'failed' | 'ended'

/**
 * What the connection must do with the transport, decided here because RFC 6455 decides it:
 * - `keep`: nothing yet.
 * - `close`: close it now (flush, then end): the server after the closing handshake (§7.1.1:
 *   "the server MUST close the underlying TCP connection first"), either role after a failure
 *   (§7.1.7) or an ended transport.
 * - `await-close`: the client after the closing handshake: wait for the server to close TCP
 *   (§7.1.1), and close it ourselves only after a timeout.
 */
export type TransportAction = 'keep' | 'close' | 'await-close'

export interface ProtocolOptions {
  /** 'server' reads masked frames and writes unmasked ones; 'client' the reverse (§5.1). */
  role: 'server' | 'client'
  /** See `ProtocolLimits.maxMessageSize`. @default 1 MiB */
  maxMessageSize?: number
  /** Mask keys for client frames; injectable so tests are deterministic. @default crypto */
  maskKeySource?: () => Uint8Array
  /** permessage-deflate was negotiated: RSV1 marks compressed messages (RFC 7692 §6). */
  compression?: boolean
  /**
   * With `compression`: the most bytes a compressed message may take on the wire, checked from
   * the length fields as `maxMessageSize` is (whoever inflates it checks the inflated size).
   * @default maxMessageSize
   */
  maxCompressedMessageSize?: number
  /**
   * Answer pings with pongs automatically (§5.5.2). Turn off only to answer them yourself
   * (`ws`'s `autoPong: false`): a peer may close a connection whose pings go unanswered.
   * @default true
   */
  autoPong?: boolean
}

/**
 * One WebSocket endpoint's protocol state, sans I/O (the model of python `websockets` and
 * `wsproto`): received bytes go in with `receive`, and events come out one at a time from
 * `next()`, as data, never as calls into user code. Commands (`send`, `ping`, `close`...) and
 * the automatic replies (pong, close echo) put bytes into the `FrameOutput`, and
 * `transportAction` says when the transport should be closed.
 *
 * Parsing is pulled: `next()` parses only up to the next event. So the caller decides between
 * any two events whether delivery goes on (after a `pause()`, `close()` or `terminate()` in a
 * listener it does not), and a close frame that arrives behind messages is answered only when
 * it is reached, after the replies to those messages (nothing may follow our close, §5.5.1).
 *
 * Closing handshake (RFC 6455 §5.5.1, §7):
 *
 *   we close first                       peer closes first
 *   close() ──► CLOSE    'close-sent'    ◄── CLOSE   next() = Close, echo ──►
 *   ◄── CLOSE  next() = Close            'closed'
 *   'closed'
 *   server: transportAction 'close' (§7.1.1)     client: 'await-close'
 */
export class WebSocketProtocol implements FrameSink {
  private readonly output: FrameOutput
  /**
   * Created with the first received byte (with the assembler): an idle connection, which
   * most of a server's are, never pays for them (issue 12, D).
   */
  private parser: FrameParser | null = null
  private assembler: MessageAssembler | null = null
  private readonly maxMessageSize: number
  private readonly maxCompressedMessageSize: number
  private readonly compression: boolean
  private readonly isServer: boolean
  private readonly maskKeySource: (() => Uint8Array) | undefined
  private readonly autoPong: boolean
  private stateValue: ProtocolState = 'open'
  /** The transport delivered its last byte; what is queued can still be parsed. */
  private inputEnded = false
  /** Opcode of an outgoing fragmented message in progress, or Continuation (0). */
  private sendingFragmented: number = Opcode.Continuation
  /** Pre-encoded messages that arrived while a fragmented message was being sent. */
  private deferred: Buffer[][] | null = null
  /** Bytes in `deferred`: they count towards the sender's buffered amount. */
  private deferredLength = 0

  /** The event `next()` returned. */
  event: ProtocolEvent = ProtocolEvent.None
  /** Message, ping or pong payload of the current event (a view of received bytes), until the next `next()`. */
  data: Buffer = EMPTY
  /** Whether the current message is binary. */
  isBinary = false
  /** Whether the current message is compressed: the caller inflates it (RFC 7692). */
  compressed = false
  /** The peer's close code (1005 for an empty close frame), once its close frame arrived. */
  closeCode: number = CloseCode.Abnormal
  /** The peer's close reason, once its close frame arrived. */
  closeReason = ''
  /** The error of an Error event (the connection failed). */
  error: WebSocketProtocolError | null = null

  constructor (output: FrameOutput, options: ProtocolOptions) {
    const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    assertByteLimit('maxMessageSize', maxMessageSize)
    this.output = output
    this.isServer = options.role === 'server'
    this.maxMessageSize = maxMessageSize
    this.maxCompressedMessageSize = options.maxCompressedMessageSize ?? maxMessageSize
    this.compression = options.compression === true
    this.maskKeySource = this.isServer ? undefined : (options.maskKeySource ?? randomMaskKey)
    this.autoPong = options.autoPong ?? true
  }

  get state (): ProtocolState {
    return this.stateValue
  }

  /** Whether the peer's close frame arrived (1006 is never sent, so it marks "not yet"). */
  get closeReceived (): boolean {
    return this.closeCode !== CloseCode.Abnormal
  }

  /**
   * Whether data frames and pings may still be sent: only while `open`; not after our close
   * frame (§5.5.1), nor after the connection failed or the transport ended.
   */
  canSend (): boolean {
    return this.stateValue === 'open'
  }

  /** See `TransportAction`. */
  get transportAction (): TransportAction {
    switch (this.stateValue) {
      case 'closed': return this.isServer ? 'close' : 'await-close'
      case 'failed':
      case 'ended': return 'close'
      default: return 'keep'
    }
  }

  /** Whether we are in the middle of sending a fragmented message (its final frame is owed). */
  get sendingFragments (): boolean {
    return this.sendingFragmented !== Opcode.Continuation
  }

  /** Bytes of pre-encoded messages waiting for our fragmented message to end. */
  get deferredBytes (): number {
    return this.deferredLength
  }

  /** Bytes received but not parsed yet. */
  get bufferedInput (): number {
    return this.parser === null ? 0 : this.parser.bufferedLength
  }

  /** Queues received bytes (including any that came with the upgrade request). Never throws. */
  receive (chunk: Buffer): void {
    if (this.parser === null) {
      // Input after a close frame or a failure is discarded (what a stopped parser does).
      if (chunk.length === 0 || (this.stateValue !== 'open' && this.stateValue !== 'close-sent')) return
      this.parser = new FrameParser(this, { role: this.isServer ? 'server' : 'client', rsv1OnMessages: this.compression })
      this.assembler = new MessageAssembler(this.maxMessageSize, this.maxCompressedMessageSize)
    }
    this.parser.push(chunk)
  }

  /** The transport will deliver no more bytes. What was received can still be parsed. */
  receiveEnd (): void {
    this.inputEnded = true
    if (this.bufferedInput === 0) this.ended()
  }

  /**
   * Parses up to the next event and returns it (its fields are on this object until the next
   * call), or None when the input is exhausted. Never throws. After a close frame or a failure,
   * input is discarded (§5.5.1, §7.1.7).
   */
  next (): ProtocolEvent {
    this.event = ProtocolEvent.None
    // The previous event's payload is the caller's now: holding it would pin the chunk it
    // was read in (up to 64 KiB) on an idle connection until its next frame.
    this.data = EMPTY
    if (this.stateValue === 'open' || this.stateValue === 'close-sent') {
      if ((this.parser === null || !this.parser.parse()) && this.inputEnded) this.ended()
    }
    return this.event
  }

  /**
   * Sends a data frame and returns its payload bytes. Throws WebSocketStateError when
   * `canSend()` is false. `compressed` sets RSV1: the payload is a whole message deflated
   * (RFC 7692 §6; never on a fragment).
   */
  send (data: Buffer | string, binary: boolean, fin = true, compressed = false): number {
    this.assertCanSend('send')
    let opcode: number
    if (this.sendingFragmented !== Opcode.Continuation) {
      opcode = Opcode.Continuation
    } else {
      opcode = binary ? Opcode.Binary : Opcode.Text
      if (!fin) this.sendingFragmented = opcode
    }
    if (fin) this.sendingFragmented = Opcode.Continuation
    const length = this.writeFrame(opcode, data, fin, compressed)
    if (fin && this.deferred !== null) this.flushDeferred()
    return length
  }

  /**
   * Sends a complete message frame encoded once for many receivers (`publish`), as the chunks
   * `encodeFrame` returned, written as they are. Server role only: client frames need a fresh
   * mask each. §5.4: it must not land inside our own fragmented message, so while one is being
   * sent it waits for that message's final fragment (and counts in `deferredBytes`).
   */
  sendEncoded (chunks: Buffer[]): void {
    this.assertCanSend('send')
    if (!this.isServer) throw new WebSocketStateError('pre-encoded frames are for the server role')
    if (this.sendingFragmented === Opcode.Continuation) {
      this.writeEncoded(chunks)
      return
    }
    (this.deferred ??= []).push(chunks)
    for (const chunk of chunks) this.deferredLength += chunk.length
  }

  private flushDeferred (): void {
    const deferred = this.deferred as Buffer[][]
    this.deferred = null
    this.deferredLength = 0
    for (const chunks of deferred) this.writeEncoded(chunks)
  }

  private writeEncoded (chunks: Buffer[]): void {
    const last = chunks.length - 1
    for (let i = 0; i < last; i++) this.output.write(chunks[i], false)
    this.output.write(chunks[last], true)
  }

  /** Sends a ping (§5.5.2). Throws RangeError over 125 bytes, WebSocketStateError after close. */
  ping (data: Buffer = EMPTY): void {
    this.assertCanSend('ping')
    assertControlPayload(data)
    this.writeFrame(Opcode.Ping, data, true)
  }

  /** Sends an unsolicited pong (§5.5.3: a unidirectional heartbeat). */
  pong (data: Buffer = EMPTY): void {
    this.assertCanSend('pong')
    assertControlPayload(data)
    this.writeFrame(Opcode.Pong, data, true)
  }

  /**
   * Starts the closing handshake (§7.1.2). Throws RangeError for an unsendable code or a reason
   * over 123 bytes, even when it then does nothing (a close was sent, or the connection ended).
   */
  close (code?: number, reason?: string | Buffer): void {
    const body = encodeClosePayload(code, reason)
    if (this.stateValue !== 'open') return
    this.stateValue = 'close-sent'
    this.dropDeferred()
    this.writeFrame(Opcode.Close, body, true)
  }

  /**
   * Fails the connection (§7.1.7) for a reason found outside the parser (invalid compressed
   * data, say): sends a close frame with `error.closeCode` unless one was sent, and discards
   * all further input. The caller reports the error. Does nothing once closed or failed.
   */
  fail (error: WebSocketProtocolError): void {
    if (this.stateValue === 'closed' || this.stateValue === 'failed') return
    const mustSendClose = this.stateValue === 'open'
    this.stateValue = 'failed'
    this.parser?.stop()
    this.dropDeferred()
    if (mustSendClose) this.writeFrame(Opcode.Close, encodeClosePayload(error.closeCode, truncateCloseReason(error.message)), true)
  }

  // FrameSink: called by the parser inside `next()`. True means "an event is ready".

  onDataFrameStart (opcode: number, fin: boolean, compressed: boolean, length: number): boolean {
    const error = this.assembler!.frameStart(opcode, fin, compressed, length)
    return error !== null && this.failWith(error)
  }

  onDataPayload (piece: Buffer): boolean {
    const error = this.assembler!.payload(piece)
    return error !== null && this.failWith(error)
  }

  onDataFrameEnd (): boolean {
    const assembler = this.assembler!
    const result = assembler.frameEnd()
    if (result === null) return false
    if (result instanceof WebSocketProtocolError) return this.failWith(result)
    this.event = ProtocolEvent.Message
    this.data = result
    this.isBinary = assembler.completedBinary
    this.compressed = assembler.completedCompressed
    return true
  }

  onControlFrame (opcode: number, payload: Buffer): boolean {
    switch (opcode) {
      case Opcode.Ping:
        // §5.5.2: answer with a pong carrying the same data, unless we are closing.
        if (this.autoPong && this.stateValue === 'open') this.writeFrame(Opcode.Pong, payload, true)
        this.event = ProtocolEvent.Ping
        this.data = payload
        return true
      case Opcode.Pong:
        this.event = ProtocolEvent.Pong
        this.data = payload
        return true
      default:
        return this.receivedClose(payload)
    }
  }

  onFrameError (error: WebSocketProtocolError): void {
    this.failWith(error)
  }

  private receivedClose (payload: Buffer): boolean {
    const parsed = parseClosePayload(payload)
    if (parsed instanceof WebSocketProtocolError) return this.failWith(parsed)
    // §5.5.1: nothing after a close frame is processed.
    this.parser!.stop()
    this.closeCode = parsed.code
    this.closeReason = parsed.reason
    if (this.stateValue === 'open') {
      // §5.5.1: reply with a close frame, echoing the status code. 1005 means "no code".
      this.dropDeferred()
      const body = parsed.code === CloseCode.NoStatusReceived ? EMPTY : encodeClosePayload(parsed.code)
      this.writeFrame(Opcode.Close, body, true)
    }
    this.stateValue = 'closed'
    this.event = ProtocolEvent.Close
    return true
  }

  /** The parser found a violation: fail, and make it the event. */
  private failWith (error: WebSocketProtocolError): true {
    this.fail(error)
    this.event = ProtocolEvent.Error
    this.error = error
    return true
  }

  private ended (): void {
    if (this.stateValue === 'open' || this.stateValue === 'close-sent') this.stateValue = 'ended'
    this.parser?.stop()
  }

  /** Nothing may follow our close frame: queued publishes are dropped with it. */
  private dropDeferred (): void {
    this.deferred = null
    this.deferredLength = 0
  }

  /**
   * Writes one frame; returns its payload bytes. A small server frame is written straight into
   * the output's shared buffer (a string encoded once, into the frame itself); anything else is
   * encoded into chunks (a large payload is never copied; a client's is masked into a copy).
   */
  private writeFrame (opcode: number, data: Buffer | string, fin: boolean, rsv1 = false): number {
    const output = this.output
    if (this.isServer && output.reserve !== undefined) {
      const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length
      if (length <= SMALL_FRAME_COPY_LIMIT) {
        const size = headerSize(length, false) + length
        const target = output.reserve(size)
        const at = writeFrameHeader(target, output.reservedAt as number, opcode, fin, rsv1, length, undefined)
        if (typeof data === 'string') target.write(data, at, 'utf8')
        else target.set(data, at)
        ;(output.commit as (size: number) => void)(size)
        return length
      }
    }
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    this.writeEncoded(encodeFrame(opcode, payload, { fin, rsv1, maskKey: this.maskKeySource?.() }))
    return payload.length
  }

  private assertCanSend (what: string): void {
    if (this.stateValue !== 'open') throw new WebSocketStateError(`cannot ${what}: the WebSocket is closing or closed`)
  }
}

const EMPTY = Buffer.alloc(0)

function assertControlPayload (data: Buffer): void {
  if (data.length > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(`control frame payload is ${data.length} bytes; at most ${MAX_CONTROL_PAYLOAD} allowed`)
  }
}
