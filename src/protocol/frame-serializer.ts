import { copyMasked } from './mask.js'

/** Largest header: 2 bytes + 8-byte length + 4-byte mask key (RFC 6455 §5.2). */
export const MAX_HEADER_SIZE = 14

/** Header size for a payload of `length` bytes, using the minimal length encoding (§5.2). */
export function headerSize (length: number, masked: boolean): number {
  const base = length < 126 ? 2 : length < 0x10000 ? 4 : 10
  return masked ? base + 4 : base
}

/**
 * Writes a frame header into `target` at `offset` and returns the offset after it.
 * Lengths use their minimal form, as RFC 6455 §5.2 requires of senders.
 */
export function writeFrameHeader (
  target: Buffer,
  offset: number,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  length: number,
  maskKey: Uint8Array | undefined
): number {
  target[offset] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode
  const maskBit = maskKey === undefined ? 0 : 0x80
  if (length < 126) {
    target[offset + 1] = maskBit | length
    offset += 2
  } else if (length < 0x10000) {
    target[offset + 1] = maskBit | 126
    target[offset + 2] = length >>> 8
    target[offset + 3] = length & 0xff
    offset += 4
  } else {
    target[offset + 1] = maskBit | 127
    const high = Math.floor(length / 0x100000000)
    target.writeUInt32BE(high, offset + 2)
    target.writeUInt32BE(length >>> 0, offset + 6)
    offset += 10
  }
  if (maskKey !== undefined) {
    target[offset] = maskKey[0]
    target[offset + 1] = maskKey[1]
    target[offset + 2] = maskKey[2]
    target[offset + 3] = maskKey[3]
    offset += 4
  }
  return offset
}

/** Below this payload size, header and payload are copied into one buffer: one chunk to write. */
export const SMALL_FRAME_COPY_LIMIT = 1024

/**
 * Encodes one frame as the chunks to write. Server frames (no mask key) leave the payload
 * untouched: small payloads are copied after the header into one buffer, larger ones are
 * returned as `[header, payload]` so the payload is never copied. Client frames get a masked
 * copy, since the caller's buffer must not change.
 */
export function encodeFrame (
  opcode: number,
  payload: Buffer,
  options: { fin?: boolean, rsv1?: boolean, maskKey?: Uint8Array } = {}
): Buffer[] {
  const fin = options.fin ?? true
  const rsv1 = options.rsv1 ?? false
  const maskKey = options.maskKey
  const length = payload.length
  const size = headerSize(length, maskKey !== undefined)

  if (maskKey !== undefined) {
    const frame = Buffer.allocUnsafe(size + length)
    const offset = writeFrameHeader(frame, 0, opcode, fin, rsv1, length, maskKey)
    copyMasked(payload, maskKey, frame, offset)
    return [frame]
  }
  if (length <= SMALL_FRAME_COPY_LIMIT) {
    const frame = Buffer.allocUnsafe(size + length)
    const offset = writeFrameHeader(frame, 0, opcode, fin, rsv1, length, undefined)
    payload.copy(frame, offset)
    return [frame]
  }
  const header = Buffer.allocUnsafe(size)
  writeFrameHeader(header, 0, opcode, fin, rsv1, length, undefined)
  return [header, payload]
}
