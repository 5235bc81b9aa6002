/**
 * The bytes of one message on a Redis channel: an 11-byte header, then the payload as is.
 *
 * ```
 *  0      1         2       3 ................. 10  11 ...
 * +------+---------+-------+--------------------+-----------+
 * | 0xFE | version | flags | instance id (8 B)  | payload   |
 * +------+---------+-------+--------------------+-----------+
 * flags: bit 0 = binary (clear: UTF-8 text); bits 1-7 reserved, zero.
 * ```
 *
 * - The marker 0xFE never occurs in UTF-8, so a text message someone else publishes on the
 *   channel (`redis-cli PUBLISH fws:news hello`) cannot be mistaken for ours.
 * - The instance id lets an instance skip its own publishes, which Redis sends back to it
 *   whenever it subscribes the same topic (its local subscribers were served directly).
 * - Binary, not JSON or base64: the payload goes to Redis and back without re-encoding.
 */
import { randomBytes } from 'node:crypto'

export const ENVELOPE_MARKER = 0xfe
export const ENVELOPE_VERSION = 1
export const ENVELOPE_HEADER_LENGTH = 11
const FLAG_BINARY = 0x01
const INSTANCE_ID_OFFSET = 3

/** An instance's 8-byte random id, and the same as two 32-bit words for fast comparison. */
export class InstanceId {
  readonly bytes: Buffer
  private readonly high: number
  private readonly low: number

  constructor (bytes: Buffer = randomBytes(8)) {
    if (bytes.length !== 8) throw new RangeError('an instance id is 8 bytes')
    this.bytes = Buffer.from(bytes)
    this.high = this.bytes.readUInt32BE(0)
    this.low = this.bytes.readUInt32BE(4)
  }

  /** Whether the envelope `message` (already checked by {@link readEnvelope}) was sent by this instance. */
  sent (message: Buffer): boolean {
    return message.readUInt32BE(INSTANCE_ID_OFFSET) === this.high &&
      message.readUInt32BE(INSTANCE_ID_OFFSET + 4) === this.low
  }

  toString (): string {
    return this.bytes.toString('hex')
  }
}

/** Builds the envelope of `payload`: one allocation, one copy. */
export function writeEnvelope (payload: Buffer, binary: boolean, instance: InstanceId): Buffer {
  const envelope = Buffer.allocUnsafe(ENVELOPE_HEADER_LENGTH + payload.length)
  envelope[0] = ENVELOPE_MARKER
  envelope[1] = ENVELOPE_VERSION
  envelope[2] = binary ? FLAG_BINARY : 0
  instance.bytes.copy(envelope, INSTANCE_ID_OFFSET)
  payload.copy(envelope, ENVELOPE_HEADER_LENGTH)
  return envelope
}

/** What {@link readEnvelope} found. */
export const EnvelopeKind = {
  /** A text message from another instance. */
  Text: 0,
  /** A binary message from another instance. */
  Binary: 1,
  /** This instance's own publish, echoed by Redis. */
  Own: 2,
  /** Not an envelope of a version we read (a foreign publisher, or a newer version). */
  Invalid: 3
} as const
export type EnvelopeKind = typeof EnvelopeKind[keyof typeof EnvelopeKind]

/** Classifies a message read from a channel. The payload is `message.subarray(ENVELOPE_HEADER_LENGTH)`. */
export function readEnvelope (message: Buffer, instance: InstanceId): EnvelopeKind {
  if (message.length < ENVELOPE_HEADER_LENGTH || message[0] !== ENVELOPE_MARKER || message[1] !== ENVELOPE_VERSION) {
    return EnvelopeKind.Invalid
  }
  const flags = message[2]
  if ((flags & ~FLAG_BINARY) !== 0) return EnvelopeKind.Invalid
  if (instance.sent(message)) return EnvelopeKind.Own
  return (flags & FLAG_BINARY) !== 0 ? EnvelopeKind.Binary : EnvelopeKind.Text
}
