import { CloseCode } from './constants.js'

/**
 * Stable string codes for every way a peer can break the protocol. They never change between
 * releases, so users can branch on them. Where `ws` reports the same condition, the code (and
 * the message, see `FrameErrorMessage`) is the one `ws` uses, so apps and libraries that match
 * on them keep working when they switch; docs/error-codes.md has the table.
 */
export const ProtocolErrorCode = {
  /** RSV1 set without an extension that defines it, or on a continuation or control frame. */
  UnexpectedRsv1: 'WS_ERR_UNEXPECTED_RSV_1',
  /** RSV2 or RSV3 set: no extension we implement defines them. */
  UnexpectedRsv23: 'WS_ERR_UNEXPECTED_RSV_2_3',
  /** A reserved opcode, a continuation without a message, or a new message inside a fragmented one. */
  InvalidOpcode: 'WS_ERR_INVALID_OPCODE',
  /** A fragmented control frame. */
  ExpectedFin: 'WS_ERR_EXPECTED_FIN',
  /** An unmasked frame from a client. */
  ExpectedMask: 'WS_ERR_EXPECTED_MASK',
  /** A masked frame from a server. */
  UnexpectedMask: 'WS_ERR_UNEXPECTED_MASK',
  /** A control frame over 125 bytes, or a close frame with a 1-byte body. */
  InvalidControlPayloadLength: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  /** A 64-bit length with the top bit set, or one of 2^53 and more. */
  UnsupportedDataPayloadLength: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
  /** A message over `maxMessageSize`. */
  MessageTooBig: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  /** Invalid UTF-8 in a text message or a close reason. */
  InvalidUtf8: 'WS_ERR_INVALID_UTF8',
  /** A close code that may not be sent. */
  InvalidCloseCode: 'WS_ERR_INVALID_CLOSE_CODE',
  /** A compressed message (RFC 7692) that is not valid DEFLATE data: close 1007. */
  InvalidCompressedData: 'WS_ERR_INVALID_COMPRESSED_DATA',
  /** zlib failed for a reason that is not the peer's data (out of memory): close 1011. */
  DecompressionFailed: 'WS_ERR_DECOMPRESSION_FAILED'
} as const
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode]

/**
 * The peer broke RFC 6455. Carries the close code the connection is failed with
 * (RFC 6455 §7.1.7) and a stable `code`. The message is safe to send as a close reason:
 * it describes the peer's input, never our internals.
 */
export class WebSocketProtocolError extends Error {
  readonly code: ProtocolErrorCode
  readonly closeCode: number

  constructor (code: ProtocolErrorCode, closeCode: number, message: string) {
    super(message)
    this.name = 'WebSocketProtocolError'
    this.code = code
    this.closeCode = closeCode
  }
}

/** `ws` prefixes frame-level protocol errors this way; so do we, for the same conditions. */
const FRAME_PREFIX = 'Invalid WebSocket frame: '

/** A 1002 protocol error about a frame, worded as `ws` words it. */
export function protocolError (code: ProtocolErrorCode, detail: string): WebSocketProtocolError {
  return new WebSocketProtocolError(code, CloseCode.ProtocolError, FRAME_PREFIX + detail)
}

/** §7.4.1 1009: the message is larger than `maxMessageSize` (`ws`'s wording). */
export function messageTooBig (): WebSocketProtocolError {
  return new WebSocketProtocolError(ProtocolErrorCode.MessageTooBig, CloseCode.MessageTooBig, 'Max payload size exceeded')
}

/** §8.1 1007: text that is not UTF-8 (`ws`'s wording). */
export function invalidUtf8 (): WebSocketProtocolError {
  return new WebSocketProtocolError(ProtocolErrorCode.InvalidUtf8, CloseCode.InvalidPayload, FRAME_PREFIX + 'invalid UTF-8 sequence')
}

/** A call that is not allowed in the socket's current state (send after close, say). */
export class WebSocketStateError extends Error {
  readonly code = 'WS_ERR_INVALID_STATE'
  constructor (message: string) {
    super(message)
    this.name = 'WebSocketStateError'
  }
}
