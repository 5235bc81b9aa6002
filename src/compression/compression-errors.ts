import { CloseCode, ProtocolErrorCode, WebSocketProtocolError } from '../protocol/index.js'

/**
 * How permessage-deflate (RFC 7692) fails a connection, in `ProtocolErrorCode`s. A decompressed
 * message over the size limit is `WS_ERR_UNSUPPORTED_MESSAGE_LENGTH` (1009) and invalid UTF-8
 * in a compressed text message `WS_ERR_INVALID_UTF8` (1007), as for uncompressed ones, so users
 * branch on one code per cause whatever the framing.
 */

/** 1007 (RFC 6455 §7.4.1): the peer's compressed data is not valid DEFLATE. */
export function invalidCompressedData (): WebSocketProtocolError {
  return new WebSocketProtocolError(ProtocolErrorCode.InvalidCompressedData, CloseCode.InvalidPayload, 'invalid compressed data')
}

/** 1011: zlib failed for a reason of ours (out of memory); no internal detail goes to the peer. */
export function decompressionFailed (): WebSocketProtocolError {
  return new WebSocketProtocolError(ProtocolErrorCode.DecompressionFailed, CloseCode.InternalError, 'decompression failed')
}
