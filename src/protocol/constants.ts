/**
 * Wire-level constants of RFC 6455, each with the section that defines it.
 */

/** RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** RFC 6455 §4.1 / §4.4: the only protocol version this implementation speaks. */
export const WEBSOCKET_VERSION = '13'

/** RFC 6455 §5.2 opcodes. */
export const Opcode = {
  /** §5.4: continuation of a fragmented message. */
  Continuation: 0x0,
  /** §5.6: a text frame (UTF-8 payload). */
  Text: 0x1,
  /** §5.6: a binary frame. */
  Binary: 0x2,
  /** §5.5.1: connection close. */
  Close: 0x8,
  /** §5.5.2: ping. */
  Ping: 0x9,
  /** §5.5.3: pong. */
  Pong: 0xa
} as const
export type Opcode = (typeof Opcode)[keyof typeof Opcode]

/** RFC 6455 §5.5: control frames have opcodes with the high bit of the nibble set. */
export function isControlOpcode (opcode: number): boolean {
  return (opcode & 0x8) !== 0
}

/** RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less". */
export const MAX_CONTROL_PAYLOAD = 125

/** RFC 6455 §5.5.1: a close payload is a 2-byte code plus a reason, within the control limit. */
export const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2

/** RFC 6455 §7.4.1 status codes, plus the IANA registrations that followed. */
export const CloseCode = {
  /** §7.4.1: normal closure. */
  Normal: 1000,
  /** §7.4.1: endpoint going away (server shutdown, page navigation). */
  GoingAway: 1001,
  /** §7.4.1: protocol error. */
  ProtocolError: 1002,
  /** §7.4.1: received a data type it cannot accept. */
  UnsupportedData: 1003,
  /** §7.4.1: reserved; MUST NOT be sent. Synthesised when a close frame had no status code. */
  NoStatusReceived: 1005,
  /** §7.4.1: reserved; MUST NOT be sent. Synthesised when the connection ended without a close frame. */
  Abnormal: 1006,
  /** §7.4.1: message data inconsistent with its type (invalid UTF-8 in text). */
  InvalidPayload: 1007,
  /** §7.4.1: policy violation. */
  PolicyViolation: 1008,
  /** §7.4.1: message too big to process. */
  MessageTooBig: 1009,
  /** §7.4.1: client expected an extension the server did not negotiate. */
  MandatoryExtension: 1010,
  /** §7.4.1: unexpected condition on the server. */
  InternalError: 1011,
  /** IANA registry: service restart. */
  ServiceRestart: 1012,
  /** IANA registry: try again later. */
  TryAgainLater: 1013,
  /** IANA registry: bad gateway. */
  BadGateway: 1014,
  /** §7.4.1: reserved; MUST NOT be sent. TLS handshake failure. */
  TlsHandshakeFailed: 1015
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/**
 * Whether `code` may appear in a close frame on the wire (RFC 6455 §7.4.1, §7.4.2).
 * 1000-1003 and 1007-1014 are defined; 1004, 1005, 1006 and 1015 are reserved and never
 * sent; 3000-3999 are registered by libraries and 4000-4999 are private use.
 */
export function isSendableCloseCode (code: number): boolean {
  if (!Number.isInteger(code)) return false
  if (code >= 1000 && code <= 1003) return true
  if (code >= 1007 && code <= 1014) return true
  return code >= 3000 && code <= 4999
}
