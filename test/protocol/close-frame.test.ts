// Close frame bodies (RFC 6455 §5.5.1, §7.4): parsing what a peer sent, encoding what we send,
// and the close code ranges in constants.ts.
import t from 'tap'
import {
  CloseCode,
  MAX_CLOSE_REASON_BYTES,
  ProtocolErrorCode as E,
  WebSocketProtocolError,
  encodeClosePayload,
  isSendableCloseCode,
  parseClosePayload
} from '../../src/protocol/index.js'
import { closeBody, hex } from '../helpers/frames.js'

const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3001, 3999, 4000, 4500, 4999]
const INVALID = [0, 1, 500, 999, 1004, 1005, 1006, 1015, 1016, 1099, 1999, 2000, 2999, 5000, 6000, 65535]

t.test('isSendableCloseCode over the whole 16-bit range', async (t) => {
  const sendable: number[] = []
  for (let code = 0; code <= 0xffff; code++) if (isSendableCloseCode(code)) sendable.push(code)
  const expected = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]
  for (let code = 3000; code <= 4999; code++) expected.push(code)
  t.same(sendable, expected)
  for (const odd of [1000.5, NaN, Infinity, -1000]) t.equal(isSendableCloseCode(odd), false, String(odd))
})

t.test('parseClosePayload: valid bodies', async (t) => {
  t.same(parseClosePayload(Buffer.alloc(0)), { code: CloseCode.NoStatusReceived, reason: '' }, 'empty body: 1005')
  for (const code of VALID) t.same(parseClosePayload(closeBody(code)), { code, reason: '' }, `code ${code}`)
  t.same(parseClosePayload(closeBody(1000, 'bye')), { code: 1000, reason: 'bye' })
  t.same(parseClosePayload(closeBody(4000, 'κόσμε 😀')), { code: 4000, reason: 'κόσμε 😀' })
  t.same(parseClosePayload(closeBody(1000, 'x'.repeat(123))), { code: 1000, reason: 'x'.repeat(123) })
  // A view into a larger buffer (as the parser hands it out).
  const backing = Buffer.concat([hex('ffff'), closeBody(1001, 'ok'), hex('ffff')])
  t.same(parseClosePayload(backing.subarray(2, 6)), { code: 1001, reason: 'ok' })
  t.same(parseClosePayload(new Uint8Array([0x03, 0xe8, 0x61])), { code: 1000, reason: 'a' }, 'a plain Uint8Array')
})

t.test('parseClosePayload: errors', async (t) => {
  const check = (name: string, body: Uint8Array, code: string, closeCode: number): void => {
    const result = parseClosePayload(body)
    t.ok(result instanceof WebSocketProtocolError, `${name}: an error`)
    t.match(result, { code, closeCode }, name)
  }
  check('1 byte', hex('03'), E.InvalidControlPayloadLength, 1002)
  for (const code of INVALID) check(`code ${code}`, closeBody(code), E.InvalidCloseCode, 1002)
  for (const reason of [hex('ff'), hex('c0 80'), hex('ed a0 80'), hex('e2 82'), hex('61 80')]) {
    check(`reason ${reason.toString('hex')}`, closeBody(1000, reason), E.InvalidUtf8, 1007)
  }
  check('invalid code wins over invalid reason', closeBody(1005, hex('ff')), E.InvalidCloseCode, 1002)
})

t.test('encodeClosePayload', async (t) => {
  t.equal(encodeClosePayload(undefined).length, 0)
  t.equal(encodeClosePayload(undefined, '').length, 0)
  t.equal(encodeClosePayload(undefined, Buffer.alloc(0)).length, 0)
  t.equal(encodeClosePayload(1000).toString('hex'), '03e8')
  t.equal(encodeClosePayload(4999, 'bye').toString('hex'), '1387627965')
  t.equal(encodeClosePayload(1001, Buffer.from([0xe2, 0x82, 0xac])).toString('hex'), '03e9e282ac')
  t.equal(encodeClosePayload(3000, '€'.repeat(41)).length, 125, '123 bytes of UTF-8 fit')
  t.equal(encodeClosePayload(3000, Buffer.alloc(MAX_CLOSE_REASON_BYTES)).length, 125)
  for (const code of VALID) t.same(parseClosePayload(encodeClosePayload(code, 'r')), { code, reason: 'r' }, `round trip ${code}`)

  for (const code of [...INVALID, 1000.5, NaN]) t.throws(() => encodeClosePayload(code), RangeError, `code ${code}`)
  t.throws(() => encodeClosePayload(1000, 'x'.repeat(124)), RangeError)
  t.throws(() => encodeClosePayload(1000, '€'.repeat(42)), RangeError, '126 bytes in 42 characters')
  t.throws(() => encodeClosePayload(1000, Buffer.alloc(124)), RangeError)
  t.throws(() => encodeClosePayload(undefined, 'why'), TypeError)
  t.throws(() => encodeClosePayload(undefined, Buffer.from('why')), TypeError)
})
