import { CloseCode, MAX_CONTROL_PAYLOAD, Opcode } from './constants.js'
import { encodeClosePayload, parseClosePayload } from './close-frame.js'
import { WebSocketProtocolError, WebSocketStateError } from './errors.js'
import { FrameParser, type FrameSink } from './frame-parser.js'
import { encodeFrame } from './frame-serializer.js'
import { DEFAULT_MAX_MESSAGE_SIZE, assertByteLimit } from './limits.js'
import { randomMaskKey } from './mask.js'
import { MessageAssembler } from './message-assembler.js'

/**
 * What the protocol reports and asks for. All calls are synchronous and happen inside
 * `receive`, `receiveEnd` or a command; the protocol itself does no I/O.
 */
export interface ProtocolHandler {
  /**
   * Bytes to put on the wire, in order. The protocol never reuses a buffer it passed here.
   * `endOfFrame` marks a frame's last chunk (a send callback belongs there).
   */
  write (chunk: Buffer, endOfFrame: boolean): void
  /** A complete data message. `data` may be a view of the received bytes. */
  onMessage (data: Buffer, isBinary: boolean): void
  /** A ping arrived; the pong has already been queued (RFC 6455 §5.5.2). */
  onPing (data: Buffer): void
  onPong (data: Buffer): void
  /**
   * A valid close frame arrived (§5.5.1). When we had not sent one, the echo has already been
   * queued, so the closing handshake is complete either way: the caller closes the transport.
   */
  onClose (code: number, reason: string): void
  /**
   * The peer broke the protocol. A close frame with `error.closeCode` has been queued (unless
   * one was sent before) and input is discarded from now on: the caller closes the transport.
   */
  onProtocolError (error: WebSocketProtocolError): void
}

export interface ProtocolOptions {
  /** 'server' reads masked frames and writes unmasked ones; 'client' the reverse (§5.1). */
  role: 'server' | 'client'
  /** See `ProtocolLimits.maxMessageSize`. @default 1 MiB */
  maxMessageSize?: number
  /** Mask keys for client frames; injectable so tests are deterministic. @default crypto */
  maskKeySource?: () => Uint8Array
}

/** Options for one outgoing data frame. */
export interface SendOptions {
  /** Send as binary (true) or text (false). Defaults to text for strings, binary otherwise. */
  binary?: boolean
  /** False to send a fragment; the message continues with the next send. @default true */
  fin?: boolean
}

/**
 * One WebSocket endpoint's protocol state, sans I/O (the model of python `websockets` and
 * `wsproto`): bytes go in through `receive`, commands through `send`/`ping`/`close`, and
 * everything comes out through the `ProtocolHandler`.
 *
 * Closing handshake (RFC 6455 §5.5.1, §7):
 *
 *   we close first                     peer closes first
 *   close() ──► CLOSE frame            ◄── CLOSE frame
 *   (closeSent)                        (closeReceived) echo ──►
 *   ◄── CLOSE frame  onClose()         onClose()
 *   caller closes TCP (server first, §7.1.1)
 */
export class WebSocketProtocol implements FrameSink {
  private readonly handler: ProtocolHandler
  private readonly parser: FrameParser
  private readonly assembler: MessageAssembler
  private readonly maskKeySource: (() => Uint8Array) | undefined

  /** We sent a close frame: no data frames may follow (§5.5.1). */
  closeSent = false
  /** The peer sent a close frame: anything after it is discarded (§5.5.1). */
  closeReceived = false
  /** The connection was failed (§7.1.7), by the peer's error or by `fail`. */
  failed = false
  /** The transport ended. */
  ended = false
  /** Opcode of an outgoing fragmented message in progress, or Continuation (0). */
  private sendingFragmented: number = Opcode.Continuation
  /** Pre-encoded messages that arrived while a fragmented message was being sent. */
  private deferredEncoded: Buffer[][] | null = null

  constructor (handler: ProtocolHandler, options: ProtocolOptions) {
    const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    assertByteLimit('maxMessageSize', maxMessageSize)
    this.handler = handler
    this.parser = new FrameParser(this, { role: options.role })
    this.assembler = new MessageAssembler(maxMessageSize)
    this.maskKeySource = options.role === 'client' ? (options.maskKeySource ?? randomMaskKey) : undefined
  }

  /**
   * Whether data frames and pings may still be sent: not after our close frame (§5.5.1),
   * nor after the connection failed or the transport ended.
   */
  canSend (): boolean {
    return !this.closeSent && !this.failed && !this.ended
  }

  /** Feeds received bytes (including any that came with the upgrade request). Never throws. */
  receive (chunk: Buffer): void {
    this.parser.push(chunk)
  }

  /** The transport ended (peer's FIN or an error). Further input is discarded. */
  receiveEnd (): void {
    this.ended = true
    this.parser.stop()
  }

  /** Sends a data frame. Throws WebSocketStateError when `canSend()` is false. */
  send (data: Buffer | string, options: SendOptions = {}): void {
    this.assertCanSend('send')
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    const fin = options.fin ?? true
    let opcode: number
    if (this.sendingFragmented !== Opcode.Continuation) {
      opcode = Opcode.Continuation
    } else {
      opcode = (options.binary ?? typeof data !== 'string') ? Opcode.Binary : Opcode.Text
      if (!fin) this.sendingFragmented = opcode
    }
    if (fin) this.sendingFragmented = Opcode.Continuation
    this.writeFrame(opcode, payload, fin)
    if (fin && this.deferredEncoded !== null) this.flushDeferred()
  }

  /**
   * Sends a complete message frame encoded once for many receivers (`publish`), as the
   * chunks `encodeFrame` returned, written as they are. Server role only: client frames need a
   * fresh mask each. §5.4: it must not land inside our own fragmented message, so while one
   * is being sent it waits for that message's final fragment.
   */
  sendEncoded (chunks: Buffer[]): void {
    this.assertCanSend('send')
    if (this.maskKeySource !== undefined) throw new WebSocketStateError('pre-encoded frames are for the server role')
    if (this.sendingFragmented !== Opcode.Continuation) {
      (this.deferredEncoded ??= []).push(chunks)
      return
    }
    this.writeEncoded(chunks)
  }

  private flushDeferred (): void {
    const deferred = this.deferredEncoded as Buffer[][]
    this.deferredEncoded = null
    for (const chunks of deferred) this.writeEncoded(chunks)
  }

  private writeEncoded (chunks: Buffer[]): void {
    const last = chunks.length - 1
    for (let i = 0; i < last; i++) this.handler.write(chunks[i], false)
    this.handler.write(chunks[last], true)
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
   * Starts (or, after the peer's close, completes) the closing handshake. Throws RangeError
   * for an unsendable code or a reason over 123 bytes. Does nothing if a close was sent.
   */
  close (code?: number, reason?: string | Buffer): void {
    const body = encodeClosePayload(code, reason)
    if (this.closeSent || this.ended) return
    this.closeSent = true
    this.writeFrame(Opcode.Close, body, true)
  }

  /**
   * Fails the connection (§7.1.7): sends a close frame with `error.closeCode` unless one was
   * sent, discards all further input, and reports `onProtocolError`.
   */
  fail (error: WebSocketProtocolError): void {
    if (this.failed || this.closeReceived) return
    this.failed = true
    this.parser.stop()
    if (!this.closeSent && !this.ended) {
      this.closeSent = true
      this.writeFrame(Opcode.Close, encodeClosePayload(error.closeCode, truncateReason(error.message)), true)
    }
    this.handler.onProtocolError(error)
  }

  // FrameSink: called by the parser.

  onDataFrameStart (opcode: number, fin: boolean, _rsv1: boolean, length: number): void {
    const error = this.assembler.frameStart(opcode, fin, length)
    if (error !== null) this.fail(error)
  }

  onDataPayload (piece: Buffer): void {
    const error = this.assembler.payload(piece)
    if (error !== null) this.fail(error)
  }

  onDataFrameEnd (): void {
    const result = this.assembler.frameEnd()
    if (result === null) return
    if (result instanceof WebSocketProtocolError) return this.fail(result)
    this.handler.onMessage(result.data, result.isBinary)
  }

  onControlFrame (opcode: number, payload: Buffer): void {
    switch (opcode) {
      case Opcode.Ping:
        // §5.5.2: answer with a pong carrying the same data, unless we are closing.
        if (this.canSend()) this.writeFrame(Opcode.Pong, payload, true)
        this.handler.onPing(payload)
        return
      case Opcode.Pong:
        this.handler.onPong(payload)
        return
      default:
        return this.receivedClose(payload)
    }
  }

  onFrameError (error: WebSocketProtocolError): void {
    this.fail(error)
  }

  private receivedClose (payload: Buffer): void {
    const parsed = parseClosePayload(payload)
    if (parsed instanceof WebSocketProtocolError) return this.fail(parsed)
    this.closeReceived = true
    // §5.5.1: nothing after a close frame is processed.
    this.parser.stop()
    if (!this.closeSent) {
      // §5.5.1: reply with a close frame, echoing the status code. 1005 means "no code".
      this.closeSent = true
      const body = parsed.code === CloseCode.NoStatusReceived ? EMPTY : encodeClosePayload(parsed.code)
      this.writeFrame(Opcode.Close, body, true)
    }
    this.handler.onClose(parsed.code, parsed.reason)
  }

  private writeFrame (opcode: number, payload: Buffer, fin: boolean): void {
    const maskKey = this.maskKeySource?.()
    this.writeEncoded(encodeFrame(opcode, payload, { fin, maskKey }))
  }

  private assertCanSend (what: string): void {
    if (!this.canSend()) throw new WebSocketStateError(`cannot ${what}: the WebSocket is closing or closed`)
  }
}

const EMPTY = Buffer.alloc(0)

function assertControlPayload (data: Buffer): void {
  if (data.length > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(`control frame payload is ${data.length} bytes; at most ${MAX_CONTROL_PAYLOAD} allowed`)
  }
}

/** Close reasons are limited to 123 bytes (§5.5.1); our error messages are ASCII. */
function truncateReason (message: string): string {
  return message.length > 123 ? message.slice(0, 123) : message
}
