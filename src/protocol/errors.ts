import { CloseCode } from './constants.js'

/**
 * Stable string codes for every way a peer can break the protocol. They never change
 * between releases, so users can branch on them.
 */
export const ProtocolErrorCode = {
  ReservedBits: 'WS_ERR_UNEXPECTED_RSV',
  InvalidOpcode: 'WS_ERR_INVALID_OPCODE',
  ExpectedMask: 'WS_ERR_EXPECTED_MASK',
  UnexpectedMask: 'WS_ERR_UNEXPECTED_MASK',
  ControlFrameTooLong: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  FragmentedControlFrame: 'WS_ERR_FRAGMENTED_CONTROL_FRAME',
  UnexpectedContinuation: 'WS_ERR_UNEXPECTED_CONTINUATION',
  ExpectedContinuation: 'WS_ERR_EXPECTED_CONTINUATION',
  UnsupportedLength: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
  MessageTooBig: 'WS_ERR_MESSAGE_TOO_BIG',
  InvalidUtf8: 'WS_ERR_INVALID_UTF8',
  InvalidClosePayload: 'WS_ERR_INVALID_CLOSE_PAYLOAD',
  InvalidCloseCode: 'WS_ERR_INVALID_CLOSE_CODE',
  DataAfterClose: 'WS_ERR_DATA_AFTER_CLOSE'
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

/** Shorthand for the most common failure, a 1002 protocol error. */
export function protocolError (code: ProtocolErrorCode, message: string): WebSocketProtocolError {
  return new WebSocketProtocolError(code, CloseCode.ProtocolError, message)
}

/** A call that is not allowed in the socket's current state (send after close, say). */
export class WebSocketStateError extends Error {
  readonly code = 'WS_ERR_INVALID_STATE'
  constructor (message: string) {
    super(message)
    this.name = 'WebSocketStateError'
  }
}
