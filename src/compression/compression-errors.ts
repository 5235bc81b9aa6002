import { CloseCode, WebSocketProtocolError, type ProtocolErrorCode } from '../protocol/index.js'

/**
 * Stable codes for the ways a peer can break permessage-deflate (RFC 7692), in addition to
 * `ProtocolErrorCode`. A decompressed message over the size limit reuses
 * `WS_ERR_MESSAGE_TOO_BIG` (1009) and invalid UTF-8 in a compressed text message reuses
 * `WS_ERR_INVALID_UTF8` (1007), so users branch on one code per cause whatever the framing.
 */
export const CompressionErrorCode = {
  /** The compressed payload is not valid DEFLATE data (close 1007, RFC 7692 §8 / RFC 6455 §7.4.1). */
  InvalidCompressedData: 'WS_ERR_INVALID_COMPRESSED_DATA',
  /** zlib failed for a reason that is not the peer's data (out of memory): close 1011. */
  DecompressionFailed: 'WS_ERR_DECOMPRESSION_FAILED'
} as const
export type CompressionErrorCode = (typeof CompressionErrorCode)[keyof typeof CompressionErrorCode]

/**
 * A `WebSocketProtocolError` with one of the codes above (or a protocol code). The cast is
 * the one place where a compression code enters the protocol's code union; once these codes are
 * merged into `ProtocolErrorCode` it can go.
 */
export function compressionError (code: CompressionErrorCode | ProtocolErrorCode, closeCode: number, message: string): WebSocketProtocolError {
  return new WebSocketProtocolError(code as ProtocolErrorCode, closeCode, message)
}

/** 1007: the peer's compressed data is corrupt. */
export function invalidCompressedData (): WebSocketProtocolError {
  return compressionError(CompressionErrorCode.InvalidCompressedData, CloseCode.InvalidPayload, 'invalid compressed data')
}
