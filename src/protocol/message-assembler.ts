import { isUtf8 } from 'node:buffer'
import { Opcode } from './constants.js'
import { ProtocolErrorCode, WebSocketProtocolError, invalidUtf8, messageTooBig, protocolError } from './errors.js'
import { Utf8Validator } from './utf8-validator.js'

const EMPTY = Buffer.alloc(0)

/**
 * Turns data frames into messages (RFC 6455 §5.4): enforces the fragmentation rules and the
 * message size limit, validates text as it arrives, and joins fragments.
 *
 * Storage: a message that arrives as one frame in one piece is handed out as that piece, with
 * no copy. Anything else is copied once into a buffer that grows geometrically, so no object
 * is kept per fragment: 200 000 empty continuation frames cost nothing but parse time.
 *
 * A compressed message (RFC 7692) is assembled the same way, but its bytes are not text yet:
 * UTF-8 is checked by whoever inflates it, and `maxCompressedSize` bounds its compressed bytes
 * (the inflater bounds the inflated ones by `maxMessageSize`).
 */
export class MessageAssembler {
  private readonly maxMessageSize: number
  private readonly maxCompressedSize: number
  /** The limit of the message in progress: one of the two above. */
  private limit: number
  /** Created with the first fragmented text message: most never need one. */
  private utf8: Utf8Validator | null = null
  /** Opcode of the message in progress, or Continuation (0) when none is. */
  private opcode: number = Opcode.Continuation
  /** Whether the message in progress is compressed (RSV1 on its first frame). */
  private compressed = false
  /** Bytes announced so far by this message's frame headers (checked against the limit). */
  private announced = 0
  /** Whether the current frame ends the message. */
  private frameFin = false
  /** The message as a single received view, when it arrived that way. */
  private single: Buffer | null = null
  /** Otherwise the bytes are copied here; `filled` of them are used. */
  private buffer: Buffer | null = null
  private filled = 0

  /** Whether the message `frameEnd` last returned is binary. */
  completedBinary = false
  /** Whether the message `frameEnd` last returned is compressed (still to be inflated). */
  completedCompressed = false

  constructor (maxMessageSize: number, maxCompressedSize = maxMessageSize) {
    this.maxMessageSize = maxMessageSize
    this.maxCompressedSize = maxCompressedSize
    this.limit = maxMessageSize
  }

  /** True between the first and the final frame of a fragmented message. */
  get inMessage (): boolean {
    return this.opcode !== Opcode.Continuation
  }

  /** A data frame header arrived. Returns the error that fails the connection, if any. */
  frameStart (opcode: number, fin: boolean, compressed: boolean, length: number): WebSocketProtocolError | null {
    if (opcode === Opcode.Continuation) {
      // §5.4: a continuation frame needs a message to continue.
      if (this.opcode === Opcode.Continuation) return protocolError(ProtocolErrorCode.InvalidOpcode, 'invalid opcode 0')
    } else {
      // §5.4: fragments of one message are not interleaved with another data message.
      if (this.opcode !== Opcode.Continuation) return protocolError(ProtocolErrorCode.InvalidOpcode, `invalid opcode ${opcode}`)
      this.opcode = opcode
      this.compressed = compressed
      this.limit = compressed ? this.maxCompressedSize : this.maxMessageSize
      this.announced = 0
      this.utf8?.reset()
    }
    // Checked before buffering anything, and across fragments.
    if (length > this.limit - this.announced) return messageTooBig()
    this.announced += length
    this.frameFin = fin
    return null
  }

  /** The next piece of the current frame's payload. */
  payload (piece: Buffer): WebSocketProtocolError | null {
    const checkText = this.opcode === Opcode.Text && !this.compressed
    if (this.single === null && this.buffer === null && this.frameFin && piece.length === this.announced) {
      // The whole message in one piece (the common case): one native check, no streaming state.
      if (checkText && !isUtf8(piece)) return invalidUtf8()
      this.single = piece
      return null
    }
    // §8.1: invalid UTF-8 fails the connection as soon as it is seen.
    if (checkText && !(this.utf8 ??= new Utf8Validator()).write(piece)) return invalidUtf8()
    this.append(piece)
    return null
  }

  /**
   * The current frame ended. Returns the message's bytes when the frame was its last (see
   * `completedBinary`, `completedCompressed`), null when more frames follow.
   */
  frameEnd (): Buffer | WebSocketProtocolError | null {
    if (!this.frameFin) return null
    const isBinary = this.opcode === Opcode.Binary
    if (!isBinary && !this.compressed && this.utf8 !== null && this.utf8.incomplete) return invalidUtf8()
    let data: Buffer
    if (this.single !== null) {
      data = this.single
    } else if (this.buffer !== null) {
      data = this.filled === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.filled)
    } else {
      data = EMPTY
    }
    this.completedBinary = isBinary
    this.completedCompressed = this.compressed
    this.opcode = Opcode.Continuation
    this.compressed = false
    this.single = null
    this.buffer = null
    this.filled = 0
    this.announced = 0
    return data
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
    const capacity = this.frameFin ? this.announced : Math.min(doubled, Math.max(needed, this.limit))
    const next = Buffer.allocUnsafe(Math.max(capacity, needed))
    if (this.buffer !== null) this.buffer.copy(next, 0, 0, this.filled)
    this.buffer = next
  }
}
