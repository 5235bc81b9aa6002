// The named constants, the error types, and the limit checks: values that are part of the
// public contract, so a change to any of them should fail a test.
import t from 'tap'
import {
  CloseCode,
  DEFAULT_LIMITS,
  DEFAULT_MAX_MESSAGE_SIZE,
  MAX_CLOSE_REASON_BYTES,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  ProtocolErrorCode,
  WEBSOCKET_GUID,
  WEBSOCKET_VERSION,
  WebSocketProtocolError,
  WebSocketStateError,
  assertByteLimit,
  isControlOpcode,
  protocolError
} from '../../src/protocol/index.js'

t.test('wire constants', async (t) => {
  t.same(Opcode, { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 })
  t.equal(WEBSOCKET_GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
  t.equal(WEBSOCKET_VERSION, '13')
  t.equal(MAX_CONTROL_PAYLOAD, 125)
  t.equal(MAX_CLOSE_REASON_BYTES, 123)
  t.same(CloseCode, {
    Normal: 1000,
    GoingAway: 1001,
    ProtocolError: 1002,
    UnsupportedData: 1003,
    NoStatusReceived: 1005,
    Abnormal: 1006,
    InvalidPayload: 1007,
    PolicyViolation: 1008,
    MessageTooBig: 1009,
    MandatoryExtension: 1010,
    InternalError: 1011,
    ServiceRestart: 1012,
    TryAgainLater: 1013,
    BadGateway: 1014,
    TlsHandshakeFailed: 1015
  })
})

t.test('isControlOpcode: 0x8-0xF', async (t) => {
  const control = Array.from({ length: 16 }, (_, op) => op).filter(isControlOpcode)
  t.same(control, [8, 9, 10, 11, 12, 13, 14, 15])
})

t.test('stable error codes: the ones `ws` uses for the same conditions', async (t) => {
  t.same(ProtocolErrorCode, {
    UnexpectedRsv1: 'WS_ERR_UNEXPECTED_RSV_1',
    UnexpectedRsv23: 'WS_ERR_UNEXPECTED_RSV_2_3',
    InvalidOpcode: 'WS_ERR_INVALID_OPCODE',
    ExpectedFin: 'WS_ERR_EXPECTED_FIN',
    ExpectedMask: 'WS_ERR_EXPECTED_MASK',
    UnexpectedMask: 'WS_ERR_UNEXPECTED_MASK',
    InvalidControlPayloadLength: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
    UnsupportedDataPayloadLength: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
    MessageTooBig: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    InvalidUtf8: 'WS_ERR_INVALID_UTF8',
    InvalidCloseCode: 'WS_ERR_INVALID_CLOSE_CODE',
    InvalidCompressedData: 'WS_ERR_INVALID_COMPRESSED_DATA',
    DecompressionFailed: 'WS_ERR_DECOMPRESSION_FAILED'
  })
})

t.test('WebSocketProtocolError and protocolError', async (t) => {
  const error = new WebSocketProtocolError(ProtocolErrorCode.MessageTooBig, 1009, 'too big')
  t.ok(error instanceof Error)
  t.equal(error.name, 'WebSocketProtocolError')
  t.equal(error.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
  t.equal(error.closeCode, 1009)
  t.equal(error.message, 'too big')
  const shorthand = protocolError(ProtocolErrorCode.InvalidOpcode, 'invalid opcode 5')
  t.ok(shorthand instanceof WebSocketProtocolError)
  t.match(shorthand, { code: 'WS_ERR_INVALID_OPCODE', closeCode: 1002, message: 'Invalid WebSocket frame: invalid opcode 5' }, "worded as `ws` words it")
})

t.test('WebSocketStateError', async (t) => {
  const error = new WebSocketStateError('closed')
  t.ok(error instanceof Error)
  t.equal(error.name, 'WebSocketStateError')
  t.equal(error.code, 'WS_ERR_INVALID_STATE')
  t.equal(error.message, 'closed')
})

t.test('limits', async (t) => {
  t.equal(DEFAULT_MAX_MESSAGE_SIZE, 1048576)
  t.same(DEFAULT_LIMITS, { maxMessageSize: 1048576 })
  t.ok(Object.isFrozen(DEFAULT_LIMITS), 'the defaults cannot be changed by accident')
  for (const ok of [0, 1, 1024, Number.MAX_SAFE_INTEGER, Infinity]) t.doesNotThrow(() => assertByteLimit('limit', ok), `${ok} is fine`)
  for (const bad of [-1, 0.5, NaN, -Infinity, Number.MAX_SAFE_INTEGER + 1]) {
    t.throws(() => assertByteLimit('maxThing', bad), { name: 'RangeError', message: /^maxThing must be/ }, `${bad} is rejected`)
  }
})
