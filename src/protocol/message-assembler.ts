import { isUtf8 } from 'node:buffer'
import { CloseCode, Opcode } from './constants.js'
import { ProtocolErrorCode, WebSocketProtocolError, protocolError } from './errors.js'
import { Utf8Validator } from './utf8-validator.js'

const EMPTY = Buffer.alloc(0)

/** A complete data message. `data` may be a view of received bytes. */
export interface AssembledMessage {
  data: Buffer
  isBinary: boolean
}

/**
 * Turns data frames into messages (RFC 6455 §5.4): enforces the fragmentation rules and the
 * message size limit, validates text as it arrives, and joins fragments.
 *
 * Storage: a message that arrives as one frame in one piece is handed out as that piece, with
 * no copy. Anything else is copied once into a buffer that grows geometrically, so no object
 * is kept per fragment: 200 000 empty continuation frames cost nothing but parse time.
 */
export class MessageAssembler {
  private readonly maxMessageSize: number
  private readonly utf8 = new Utf8Validator()
  /** Opcode of the message in progress, or Continuation (0) when none is. */
  private opcode: number = Opcode.Continuation
  /** Bytes announced so far by this message's frame headers (checked against the limit). */
  private announced = 0
  /** Whether the current frame ends the message. */
  private frameFin = false
  /** The message as a single received view, when it arrived that way. */
  private single: Buffer | null = null
  /** Otherwise the bytes are copied here; `filled` of them are used. */
  private buffer: Buffer | null = null
  private filled = 0

  constructor (maxMessageSize: number) {
    this.maxMessageSize = maxMessageSize
  }

  /** True between the first and the final frame of a fragmented message. */
  get inMessage (): boolean {
    return this.opcode !== Opcode.Continuation
  }

  /** A data frame header arrived. Returns the error that fails the connection, if any. */
  frameStart (opcode: number, fin: boolean, length: number): WebSocketProtocolError | null {
    if (opcode === Opcode.Continuation) {
      // §5.4: a continuation frame needs a message to continue.
      if (this.opcode === Opcode.Continuation) {
        return protocolError(ProtocolErrorCode.UnexpectedContinuation, 'continuation frame without a message to continue')
      }
    } else {
      // §5.4: fragments of one message are not interleaved with another data message.
      if (this.opcode !== Opcode.Continuation) {
        return protocolError(ProtocolErrorCode.ExpectedContinuation, 'new data frame before the fragmented message ended')
      }
      this.opcode = opcode
      this.announced = 0
      if (opcode === Opcode.Text) this.utf8.reset()
    }
    // Checked before buffering anything, and across fragments.
    if (length > this.maxMessageSize - this.announced) {
      return new WebSocketProtocolError(ProtocolErrorCode.MessageTooBig, CloseCode.MessageTooBig, 'message too big')
    }
    this.announced += length
    this.frameFin = fin
    return null
  }

  /** The next piece of the current frame's payload. */
  payload (piece: Buffer): WebSocketProtocolError | null {
    if (this.single === null && this.buffer === null && this.frameFin && piece.length === this.announced) {
      // The whole message in one piece (the common case): one native check, no streaming state.
      if (this.opcode === Opcode.Text && !isUtf8(piece)) return invalidUtf8()
      this.single = piece
      return null
    }
    // §8.1: invalid UTF-8 fails the connection as soon as it is seen.
    if (this.opcode === Opcode.Text && !this.utf8.write(piece)) return invalidUtf8()
    this.append(piece)
    return null
  }

  /** The current frame ended. Returns the message when the frame was its last. */
  frameEnd (): AssembledMessage | WebSocketProtocolError | null {
    if (!this.frameFin) return null
    const isBinary = this.opcode === Opcode.Binary
    if (!isBinary && this.utf8.incomplete) return invalidUtf8()
    let data: Buffer
    if (this.single !== null) {
      data = this.single
    } else if (this.buffer !== null) {
      data = this.filled === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.filled)
    } else {
      data = EMPTY
    }
    this.opcode = Opcode.Continuation
    this.single = null
    this.buffer = null
    this.filled = 0
    this.announced = 0
    return { data, isBinary }
  }

  private append (piece: Buffer): void {
    const needed = this.filled + piece.length
    if (this.buffer === null || needed > this.buffer.length) this.grow(needed)
    piece.copy(this.buffer!, this.filled)
    this.filled = needed
  }

  private grow (needed: number): void {
    // A final frame tells the exact size; otherwise double, to keep copying linear.
    const doubled = this.buffer === null ? needed : Math.max(needed, this.buffer.length * 2)
    const capacity = this.frameFin ? this.announced : Math.min(doubled, Math.max(needed, this.maxMessageSize))
    const next = Buffer.allocUnsafe(Math.max(capacity, needed))
    if (this.buffer !== null) this.buffer.copy(next, 0, 0, this.filled)
    this.buffer = next
  }
}

function invalidUtf8 (): WebSocketProtocolError {
  return new WebSocketProtocolError(ProtocolErrorCode.InvalidUtf8, CloseCode.InvalidPayload, 'invalid UTF-8 in text message')
}
