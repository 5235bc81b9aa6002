import { CloseCode, MAX_CLOSE_REASON_BYTES, isSendableCloseCode } from './constants.js'
import { ProtocolErrorCode, WebSocketProtocolError, invalidUtf8, protocolError } from './errors.js'
import { isValidUtf8 } from './utf8-validator.js'

/** A parsed close frame body (RFC 6455 §5.5.1). */
export interface ClosePayload {
  /** The status code, or 1005 when the frame had no body (§7.1.5). */
  code: number
  /** The UTF-8 reason, possibly empty. */
  reason: string
}

/**
 * Parses a received close frame's payload. Returns a protocol error for a 1-byte body or a
 * code that may not be sent (1002), or for a reason that is not UTF-8 (1007).
 */
export function parseClosePayload (payload: Uint8Array): ClosePayload | WebSocketProtocolError {
  if (payload.length === 0) return { code: CloseCode.NoStatusReceived, reason: '' }
  // §5.5.1: a body, if present, starts with a 2-byte code.
  if (payload.length === 1) {
    return protocolError(ProtocolErrorCode.InvalidControlPayloadLength, 'invalid payload length 1')
  }
  const code = (payload[0] << 8) | payload[1]
  if (!isSendableCloseCode(code)) {
    return protocolError(ProtocolErrorCode.InvalidCloseCode, `invalid status code ${code}`)
  }
  const reasonBytes = payload.subarray(2)
  // §5.5.1: the reason is UTF-8; §8.1: invalid UTF-8 fails the connection with 1007.
  if (!isValidUtf8(reasonBytes)) {
    return invalidUtf8()
  }
  return { code, reason: Buffer.from(reasonBytes.buffer, reasonBytes.byteOffset, reasonBytes.length).toString('utf8') }
}

/**
 * Builds a close frame body. Throws a RangeError for a code that may not be sent or a reason
 * over 123 bytes: those are caller mistakes, found before anything reaches the wire.
 * `code` undefined means an empty body (a close without status).
 */
export function encodeClosePayload (code: number | undefined, reason: string | Buffer = ''): Buffer {
  if (code === undefined) {
    if (reason.length > 0) throw new TypeError('a close reason needs a close code')
    return Buffer.alloc(0)
  }
  if (!isSendableCloseCode(code)) {
    throw new RangeError(`close code ${String(code)} may not be sent (use 1000, 1001-1003, 1007-1014 or 3000-4999)`)
  }
  const reasonLength = typeof reason === 'string' ? Buffer.byteLength(reason) : reason.length
  if (reasonLength > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(`close reason is ${reasonLength} bytes; at most ${MAX_CLOSE_REASON_BYTES} fit in a close frame`)
  }
  const body = Buffer.allocUnsafe(2 + reasonLength)
  body.writeUInt16BE(code, 0)
  if (typeof reason === 'string') body.write(reason, 2, 'utf8')
  else reason.copy(body, 2)
  return body
}

/**
 * `reason` cut to what fits in a close frame (123 bytes of UTF-8, RFC 6455 §5.5.1), never in
 * the middle of a character.
 */
export function truncateCloseReason (reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason
  let cut = reason.slice(0, MAX_CLOSE_REASON_BYTES)
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON_BYTES) cut = cut.slice(0, -1)
  return cut
}
