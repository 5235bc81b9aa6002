import { CloseCode, MAX_CONTROL_PAYLOAD, Opcode, isControlOpcode } from './constants.js'
import { ChunkQueue } from './chunk-queue.js'
import { ProtocolErrorCode, WebSocketProtocolError, protocolError } from './errors.js'
import { applyMask } from './mask.js'

/** Where the parser is inside the current frame (RFC 6455 §5.2 layout). */
const ParserState = {
  Header: 0,
  Length16: 1,
  Length64: 2,
  MaskKey: 3,
  Payload: 4,
  Stopped: 5
} as const
type ParserState = (typeof ParserState)[keyof typeof ParserState]

/**
 * Receives what the parser finds. Plain method calls, no events, no allocation. Each method
 * returns true to make the parser stop and return (`parse()` then reports that it yielded):
 * that is how the protocol turns frames into one event at a time.
 */
export interface FrameSink {
  /**
   * A data or continuation frame header; its payload follows in `onDataPayload` pieces.
   * `compressed` is RSV1 on the first frame of a message (RFC 7692 §6), only ever set when the
   * parser was told that an extension defines it.
   */
  onDataFrameStart (opcode: number, fin: boolean, compressed: boolean, length: number): boolean
  /** The next unmasked piece of the current data frame's payload (a view; never empty). */
  onDataPayload (piece: Buffer): boolean
  /** The current data frame's payload is complete. */
  onDataFrameEnd (): boolean
  /** A whole control frame (payload already unmasked, at most 125 bytes). */
  onControlFrame (opcode: number, payload: Buffer): boolean
  /** The input broke framing rules; the parser has stopped. */
  onFrameError (error: WebSocketProtocolError): void
}

export interface FrameParserOptions {
  /** 'server' expects masked frames (RFC 6455 §5.1); 'client' expects unmasked ones. */
  role: 'server' | 'client'
  /**
   * Whether a negotiated extension (permessage-deflate) gives RSV1 a meaning: then it may be
   * set on the first frame of a data message, and nowhere else (RFC 7692 §6). @default false
   */
  rsv1OnMessages?: boolean
}

/**
 * Incremental RFC 6455 frame parser. `push` chunks of any size, down to one byte; `parse`
 * consumes what it can act on and never anything it cannot act on yet. Payload of data frames
 * is streamed out in pieces (views of the input, unmasked in place), so a large frame is never
 * buffered here and text can be validated as it arrives.
 */
export class FrameParser {
  private readonly sink: FrameSink
  private readonly expectMask: boolean
  private readonly rsv1OnMessages: boolean
  private readonly queue = new ChunkQueue()
  /** Allocated with the first masked frame: an idle connection never needs it. */
  private maskKey: Buffer | null = null

  private state: ParserState = ParserState.Header
  private fin = false
  private compressed = false
  private opcode = 0
  private masked = false
  /** Payload bytes of the current frame not yet handed out. */
  private remaining = 0
  /** Payload bytes of the current frame already handed out (position in the mask cycle). */
  private consumed = 0

  constructor (sink: FrameSink, options: FrameParserOptions) {
    this.sink = sink
    this.expectMask = options.role === 'server'
    this.rsv1OnMessages = options.rsv1OnMessages ?? false
  }

  /** True once the parser failed or was stopped; further input is discarded. */
  get stopped (): boolean {
    return this.state === ParserState.Stopped
  }

  /** Bytes received but not yet parsed. */
  get bufferedLength (): number {
    return this.queue.length
  }

  /** Stops parsing for good and drops buffered input. Safe to call from a sink method. */
  stop (): void {
    this.state = ParserState.Stopped
    this.queue.clear()
  }

  /** Queues received bytes for `parse`. Input after `stop()` is discarded. */
  push (chunk: Buffer): void {
    if (this.state !== ParserState.Stopped) this.queue.push(chunk)
  }

  /**
   * Parses queued bytes until a sink method asks to yield (returns true) or more input is
   * needed (returns false). Never throws on bad input: see `onFrameError`.
   */
  parse (): boolean {
    const queue = this.queue
    for (;;) {
      switch (this.state) {
        case ParserState.Header: {
          if (queue.length < 2) return false
          const b0 = queue.byteAt(0)
          const b1 = queue.byteAt(1)
          queue.skip(2)
          if (this.readHeader(b0, b1)) return true
          break
        }
        case ParserState.Length16: {
          if (queue.length < 2) return false
          this.remaining = (queue.byteAt(0) << 8) | queue.byteAt(1)
          queue.skip(2)
          if (this.afterLength()) return true
          break
        }
        case ParserState.Length64: {
          if (queue.length < 8) return false
          const high = (queue.byteAt(0) * 0x1000000) + ((queue.byteAt(1) << 16) | (queue.byteAt(2) << 8) | queue.byteAt(3))
          const low = (queue.byteAt(4) * 0x1000000) + ((queue.byteAt(5) << 16) | (queue.byteAt(6) << 8) | queue.byteAt(7))
          queue.skip(8)
          // RFC 6455 §5.2: "the most significant bit MUST be 0".
          if (high >= 0x80000000) {
            this.fail(protocolError(ProtocolErrorCode.UnsupportedDataPayloadLength, 'payload length has the most significant bit set'))
            return true
          }
          // Lengths from 2^53 are legal but cannot be counted exactly, and no limit (a safe
          // integer, or Infinity) could ever be met by them: the message is too big (1009).
          if (high >= 0x200000) {
            this.fail(new WebSocketProtocolError(ProtocolErrorCode.UnsupportedDataPayloadLength, CloseCode.MessageTooBig,
              'Unsupported WebSocket frame: payload length > 2^53 - 1'))
            return true
          }
          this.remaining = high * 0x100000000 + low
          if (this.afterLength()) return true
          break
        }
        case ParserState.MaskKey: {
          if (queue.length < 4) return false
          // Its own 4 bytes, not a slice of Node's shared 8 KiB pool (allocUnsafe), which this
          // long-lived key would pin for the connection's whole life.
          const maskKey = this.maskKey ??= Buffer.alloc(4)
          maskKey[0] = queue.byteAt(0)
          maskKey[1] = queue.byteAt(1)
          maskKey[2] = queue.byteAt(2)
          maskKey[3] = queue.byteAt(3)
          queue.skip(4)
          this.state = ParserState.Payload
          if (this.startPayload()) return true
          break
        }
        case ParserState.Payload: {
          if (isControlOpcode(this.opcode)) {
            if (queue.length < this.remaining) return false
            const payload = queue.take(this.remaining)
            if (this.masked) applyMask(payload, this.maskKey as Buffer, 0)
            this.state = ParserState.Header
            if (this.sink.onControlFrame(this.opcode, payload)) return true
            break
          }
          const result = this.streamPayload()
          if (result !== Streamed.Done) return result === Streamed.Yielded
          break
        }
        case ParserState.Stopped:
          return false
      }
    }
  }

  /**
   * Validates the first two header bytes (RFC 6455 §5.2) and moves to the next state. True
   * when the sink yielded: the frame was rejected (the parser has stopped and reported it), or
   * a short unmasked data frame started and the sink had something to say.
   */
  private readHeader (b0: number, b1: number): boolean {
    this.fin = (b0 & 0x80) !== 0
    const opcode = this.opcode = b0 & 0x0f
    this.masked = (b1 & 0x80) !== 0
    const length7 = b1 & 0x7f

    // §5.2: RSV bits MUST be 0 unless an extension defines them.
    if ((b0 & 0x30) !== 0) return this.reject(protocolError(ProtocolErrorCode.UnexpectedRsv23, 'RSV2 and RSV3 must be clear'))
    this.compressed = (b0 & 0x40) !== 0
    // RFC 7692 §6: RSV1 marks a compressed message on its first frame, never on a
    // continuation or a control frame.
    if (this.compressed && (!this.rsv1OnMessages || opcode === Opcode.Continuation || isControlOpcode(opcode))) {
      return this.reject(protocolError(ProtocolErrorCode.UnexpectedRsv1, 'RSV1 must be clear'))
    }
    if (isControlOpcode(opcode)) {
      // §5.2: 0xB-0xF are reserved for further control frames.
      if (opcode > Opcode.Pong) return this.reject(protocolError(ProtocolErrorCode.InvalidOpcode, `invalid opcode ${opcode}`))
      // §5.5: control frames MUST NOT be fragmented.
      if (!this.fin) return this.reject(protocolError(ProtocolErrorCode.ExpectedFin, 'FIN must be set'))
      // §5.5: control frame payloads are 125 bytes or less.
      if (length7 > MAX_CONTROL_PAYLOAD) {
        return this.reject(protocolError(ProtocolErrorCode.InvalidControlPayloadLength, `invalid payload length ${length7}`))
      }
    } else if (opcode > Opcode.Binary) {
      // §5.2: 0x3-0x7 are reserved for further non-control frames.
      return this.reject(protocolError(ProtocolErrorCode.InvalidOpcode, `invalid opcode ${opcode}`))
    }
    // §5.1: a server MUST close on an unmasked client frame; a client on a masked server frame.
    if (this.masked !== this.expectMask) {
      return this.reject(this.expectMask
        ? protocolError(ProtocolErrorCode.ExpectedMask, 'MASK must be set')
        : protocolError(ProtocolErrorCode.UnexpectedMask, 'MASK must be clear'))
    }

    if (length7 === 126) {
      this.state = ParserState.Length16
    } else if (length7 === 127) {
      this.state = ParserState.Length64
    } else {
      this.remaining = length7
      return this.afterLength()
    }
    return false
  }

  /** The length is known: on to the mask key, or straight to the payload. True if the sink yielded. */
  private afterLength (): boolean {
    if (this.masked) {
      this.state = ParserState.MaskKey
      return false
    }
    this.state = ParserState.Payload
    return this.startPayload()
  }

  /**
   * The header is complete and the payload starts. Data frames are announced to the sink,
   * which checks message rules and limits from the length alone, before any payload.
   * Returns true when the sink yielded.
   */
  private startPayload (): boolean {
    this.consumed = 0
    if (isControlOpcode(this.opcode)) return false
    if (this.sink.onDataFrameStart(this.opcode, this.fin, this.compressed, this.remaining)) return true
    if (this.stopped) return false
    if (this.remaining === 0) {
      this.state = ParserState.Header
      return this.sink.onDataFrameEnd()
    }
    return false
  }

  /** Hands out the payload bytes available now. */
  private streamPayload (): Streamed {
    const queue = this.queue
    while (this.remaining > 0) {
      if (queue.length === 0) return Streamed.NeedMore
      const piece = queue.takeUpTo(this.remaining)
      if (this.masked) applyMask(piece, this.maskKey as Buffer, this.consumed)
      this.consumed += piece.length
      this.remaining -= piece.length
      if (this.sink.onDataPayload(piece)) return Streamed.Yielded
      if (this.stopped) return Streamed.NeedMore
    }
    this.state = ParserState.Header
    return this.sink.onDataFrameEnd() ? Streamed.Yielded : Streamed.Done
  }

  private reject (error: WebSocketProtocolError): true {
    this.fail(error)
    return true
  }

  private fail (error: WebSocketProtocolError): void {
    this.stop()
    this.sink.onFrameError(error)
  }
}

/** What `streamPayload` did: finished the frame, needs more input, or the sink yielded. */
const Streamed = { Done: 0, NeedMore: 1, Yielded: 2 } as const
type Streamed = (typeof Streamed)[keyof typeof Streamed]
