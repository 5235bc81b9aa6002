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

/** Receives what the parser finds. Kept as plain method calls: no events, no allocation. */
export interface FrameSink {
  /** A data or continuation frame header; its payload follows in `onDataPayload` pieces. */
  onDataFrameStart (opcode: number, fin: boolean, rsv1: boolean, length: number): void
  /** The next unmasked piece of the current data frame's payload (a view; never empty). */
  onDataPayload (piece: Buffer): void
  /** The current data frame's payload is complete. */
  onDataFrameEnd (fin: boolean): void
  /** A whole control frame (payload already unmasked, at most 125 bytes). */
  onControlFrame (opcode: number, payload: Buffer): void
  /** The input broke framing rules; the parser has stopped. */
  onFrameError (error: WebSocketProtocolError): void
}

export interface FrameParserOptions {
  /** 'server' expects masked frames (RFC 6455 §5.1); 'client' expects unmasked ones. */
  role: 'server' | 'client'
  /** RSV bits an extension negotiated (0x40 for RSV1); others fail with 1002. @default 0 */
  allowedRsv?: number
}

/**
 * Incremental RFC 6455 frame parser. Feed it chunks of any size, down to one byte; it
 * consumes nothing it cannot act on yet. Payload of data frames is streamed out in pieces
 * (views of the input, unmasked in place), so a large frame is never buffered here and
 * text can be validated as it arrives.
 */
export class FrameParser {
  private readonly sink: FrameSink
  private readonly expectMask: boolean
  private readonly allowedRsv: number
  private readonly queue = new ChunkQueue()
  /** Allocated with the first masked frame: an idle connection never needs it. */
  private maskKey: Buffer | null = null

  private state: ParserState = ParserState.Header
  private fin = false
  private rsv1 = false
  private opcode = 0
  private masked = false
  /** Payload bytes of the current frame not yet handed out. */
  private remaining = 0
  /** Payload bytes of the current frame already handed out (position in the mask cycle). */
  private consumed = 0

  constructor (sink: FrameSink, options: FrameParserOptions) {
    this.sink = sink
    this.expectMask = options.role === 'server'
    this.allowedRsv = options.allowedRsv ?? 0
  }

  /** True once the parser failed or was stopped; further input is discarded. */
  get stopped (): boolean {
    return this.state === ParserState.Stopped
  }

  /** Bytes received but not yet parsed (a partial header or control frame). */
  get bufferedLength (): number {
    return this.queue.length
  }

  /** Stops parsing for good and drops buffered input. Safe to call from a sink callback. */
  stop (): void {
    this.state = ParserState.Stopped
    this.queue.clear()
  }

  /** Parses as much of the input as possible. Never throws on bad input: see `onFrameError`. */
  push (chunk: Buffer): void {
    if (this.state === ParserState.Stopped) return
    this.queue.push(chunk)
    this.run()
  }

  private run (): void {
    const queue = this.queue
    for (;;) {
      switch (this.state) {
        case ParserState.Header: {
          if (queue.length < 2) return
          const b0 = queue.byteAt(0)
          const b1 = queue.byteAt(1)
          queue.skip(2)
          if (!this.readHeader(b0, b1)) return
          break
        }
        case ParserState.Length16: {
          if (queue.length < 2) return
          this.remaining = (queue.byteAt(0) << 8) | queue.byteAt(1)
          queue.skip(2)
          this.afterLength()
          break
        }
        case ParserState.Length64: {
          if (queue.length < 8) return
          const high = (queue.byteAt(0) * 0x1000000) + ((queue.byteAt(1) << 16) | (queue.byteAt(2) << 8) | queue.byteAt(3))
          const low = (queue.byteAt(4) * 0x1000000) + ((queue.byteAt(5) << 16) | (queue.byteAt(6) << 8) | queue.byteAt(7))
          queue.skip(8)
          // RFC 6455 §5.2: "the most significant bit MUST be 0".
          if (high >= 0x80000000) {
            return this.fail(protocolError(ProtocolErrorCode.UnsupportedLength, 'payload length has the most significant bit set'))
          }
          // Lengths from 2^53 are legal but cannot be counted exactly, and no limit (a safe
          // integer, or Infinity) could ever be met by them: the message is too big (1009).
          if (high >= 0x200000) {
            return this.fail(new WebSocketProtocolError(ProtocolErrorCode.MessageTooBig, CloseCode.MessageTooBig, 'message too big'))
          }
          this.remaining = high * 0x100000000 + low
          this.afterLength()
          break
        }
        case ParserState.MaskKey: {
          if (queue.length < 4) return
          const maskKey = this.maskKey ??= Buffer.allocUnsafe(4)
          maskKey[0] = queue.byteAt(0)
          maskKey[1] = queue.byteAt(1)
          maskKey[2] = queue.byteAt(2)
          maskKey[3] = queue.byteAt(3)
          queue.skip(4)
          this.startPayload()
          break
        }
        case ParserState.Payload: {
          if (isControlOpcode(this.opcode)) {
            if (queue.length < this.remaining) return
            const payload = queue.take(this.remaining)
            if (this.masked) applyMask(payload, this.maskKey as Buffer, 0)
            this.state = ParserState.Header
            this.sink.onControlFrame(this.opcode, payload)
            break
          }
          if (!this.streamPayload()) return
          break
        }
        case ParserState.Stopped:
          return
      }
    }
  }

  /** Validates the first two header bytes (RFC 6455 §5.2). False when the frame is rejected. */
  private readHeader (b0: number, b1: number): boolean {
    this.fin = (b0 & 0x80) !== 0
    const rsv = b0 & 0x70
    this.rsv1 = (rsv & 0x40) !== 0
    this.opcode = b0 & 0x0f
    this.masked = (b1 & 0x80) !== 0
    const length7 = b1 & 0x7f

    // §5.2: RSV bits MUST be 0 unless an extension defines them.
    if ((rsv & ~this.allowedRsv) !== 0) {
      this.fail(protocolError(ProtocolErrorCode.ReservedBits, 'reserved bits must be 0'))
      return false
    }
    const opcode = this.opcode
    if (isControlOpcode(opcode)) {
      // §5.2: 0xB-0xF are reserved for further control frames.
      if (opcode > Opcode.Pong) {
        this.fail(protocolError(ProtocolErrorCode.InvalidOpcode, `reserved opcode 0x${opcode.toString(16)}`))
        return false
      }
      // §5.5: control frames MUST NOT be fragmented.
      if (!this.fin) {
        this.fail(protocolError(ProtocolErrorCode.FragmentedControlFrame, 'control frames must not be fragmented'))
        return false
      }
      // §5.5: control frame payloads are 125 bytes or less.
      if (length7 > MAX_CONTROL_PAYLOAD) {
        this.fail(protocolError(ProtocolErrorCode.ControlFrameTooLong, 'control frame payload exceeds 125 bytes'))
        return false
      }
      // RSV1 means "compressed" only for data frames (RFC 7692 §6).
      if (this.rsv1) {
        this.fail(protocolError(ProtocolErrorCode.ReservedBits, 'reserved bits must be 0 on control frames'))
        return false
      }
    } else if (opcode > Opcode.Binary) {
      // §5.2: 0x3-0x7 are reserved for further non-control frames.
      this.fail(protocolError(ProtocolErrorCode.InvalidOpcode, `reserved opcode 0x${opcode.toString(16)}`))
      return false
    }
    // §5.1: a server MUST close on an unmasked client frame; a client on a masked server frame.
    if (this.masked !== this.expectMask) {
      this.fail(this.expectMask
        ? protocolError(ProtocolErrorCode.ExpectedMask, 'client frames must be masked')
        : protocolError(ProtocolErrorCode.UnexpectedMask, 'server frames must not be masked'))
      return false
    }

    if (length7 === 126) {
      this.state = ParserState.Length16
    } else if (length7 === 127) {
      this.state = ParserState.Length64
    } else {
      this.remaining = length7
      this.afterLength()
    }
    return true
  }

  private afterLength (): void {
    if (this.masked) {
      this.state = ParserState.MaskKey
    } else {
      this.startPayload()
    }
  }

  private startPayload (): void {
    this.consumed = 0
    this.state = ParserState.Payload
    if (isControlOpcode(this.opcode)) return
    // The sink checks message rules and limits from the length alone, before any payload.
    this.sink.onDataFrameStart(this.opcode, this.fin, this.rsv1, this.remaining)
    if (this.state !== ParserState.Payload) return
    if (this.remaining === 0) {
      this.state = ParserState.Header
      this.sink.onDataFrameEnd(this.fin)
    }
  }

  /** Hands out the payload bytes available now. False when it needs more input. */
  private streamPayload (): boolean {
    const queue = this.queue
    while (this.remaining > 0) {
      if (queue.length === 0) return false
      const piece = queue.takeUpTo(this.remaining)
      if (this.masked) applyMask(piece, this.maskKey as Buffer, this.consumed)
      this.consumed += piece.length
      this.remaining -= piece.length
      this.sink.onDataPayload(piece)
      if (this.state !== ParserState.Payload) return false
    }
    this.state = ParserState.Header
    this.sink.onDataFrameEnd(this.fin)
    return true
  }

  private fail (error: WebSocketProtocolError): void {
    this.stop()
    this.sink.onFrameError(error)
  }
}
