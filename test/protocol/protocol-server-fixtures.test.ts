// Table-driven fixtures for WebSocketProtocol in the server role: bytes a client sends in,
// events and written frames out. Every fixture runs whole, byte by byte, split at every
// offset and in seeded random chunkings (see test/helpers/chunkings.ts); all must agree.
import t from 'tap'
import { OP, clientFrame, closeBody, buildFrame, frameHeader, hex, serverFrame } from '../helpers/frames.js'
import { ev, failure, type Expected, checkAllChunkings, feed, runChunks, type Run } from '../helpers/protocol-recorder.js'
import { utf8Text } from '../helpers/payloads.js'
import { randomBytes, seededRandom } from '../helpers/seeded-random.js'
import type { ChunkingOptions } from '../helpers/chunkings.js'
import { ProtocolErrorCode as E } from '../../src/protocol/index.js'

/** Feeds one chunk and pulls every event it completes. */
function feedOne (run: Run, chunk: Buffer): void {
  feed(run, [chunk])
}

interface Fixture {
  name: string
  input: Buffer
  expected: Expected[]
  maxMessageSize?: number
  chunking?: ChunkingOptions
}

const MiB = 1024 * 1024
const random = seededRandom(6455)
const fixtures: Fixture[] = []
const add = (fixture: Fixture): void => { fixtures.push(fixture) }

// --- Data messages of every length class (7-bit, 16-bit and 64-bit length fields) ----------

for (const length of [0, 1, 125, 126, 127, 65535, 65536, MiB]) {
  const chunking: ChunkingOptions = length >= MiB ? { edge: 32, sampled: 8, seeds: [1, 2, 3, 4] } : {}
  const text = utf8Text(length)
  add({ name: `text of ${length} bytes`, input: clientFrame(OP.TEXT, text), expected: [ev.text(text)], chunking })
  const binary = randomBytes(random, length)
  add({ name: `binary of ${length} bytes`, input: clientFrame(OP.BINARY, binary), expected: [ev.binary(binary)], chunking })
}

add({
  name: 'the RFC 6455 §5.7 masked "Hello" example',
  input: hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'),
  expected: [ev.text('Hello')]
})
add({
  name: 'multi-byte text',
  input: clientFrame(OP.TEXT, 'héllo wörld € 𝄞 日本語'),
  expected: [ev.text('héllo wörld € 𝄞 日本語')]
})
add({
  name: 'a zero mask key leaves the payload as is',
  input: clientFrame(OP.BINARY, [1, 2, 3, 4, 5, 6, 7, 8, 9], { mask: [0, 0, 0, 0] }),
  expected: [ev.binary([1, 2, 3, 4, 5, 6, 7, 8, 9])]
})
add({
  name: 'non-minimal 16-bit length for 5 bytes is accepted',
  input: clientFrame(OP.TEXT, 'hello', { lengthEncoding: 16 }),
  expected: [ev.text('hello')]
})
add({
  name: 'non-minimal 64-bit length for 5 bytes is accepted',
  input: clientFrame(OP.TEXT, 'hello', { lengthEncoding: 64 }),
  expected: [ev.text('hello')]
})
add({
  name: 'non-minimal 64-bit length for 300 bytes is accepted',
  input: clientFrame(OP.BINARY, Buffer.alloc(300, 7), { lengthEncoding: 64 }),
  expected: [ev.binary(Buffer.alloc(300, 7))]
})
add({
  name: 'several messages back to back',
  input: Buffer.concat([clientFrame(OP.TEXT, 'one'), clientFrame(OP.BINARY, [2]), clientFrame(OP.TEXT, ''), clientFrame(OP.TEXT, 'four')]),
  expected: [ev.text('one'), ev.binary([2]), ev.text(''), ev.text('four')]
})

// --- Fragmentation (RFC 6455 §5.4) -----------------------------------------------------

add({
  name: 'fragmented text with a ping and a pong between fragments',
  input: Buffer.concat([
    clientFrame(OP.TEXT, 'Hel', { fin: false }),
    clientFrame(OP.PING, 'p1'),
    clientFrame(OP.CONT, 'lo, ', { fin: false }),
    clientFrame(OP.PONG, 'q'),
    clientFrame(OP.CONT, 'world')
  ]),
  expected: [ev.wrotePong('p1'), ev.ping('p1'), ev.pong('q'), ev.text('Hello, world')]
})
add({
  name: 'fragmented binary with pings between every fragment',
  input: Buffer.concat([
    clientFrame(OP.BINARY, [1, 2], { fin: false }),
    clientFrame(OP.PING),
    clientFrame(OP.CONT, [3], { fin: false }),
    clientFrame(OP.PING, [9, 9]),
    clientFrame(OP.CONT, [4, 5, 6])
  ]),
  expected: [ev.wrotePong(), ev.ping(), ev.wrotePong([9, 9]), ev.ping([9, 9]), ev.binary([1, 2, 3, 4, 5, 6])]
})
add({
  name: 'a fragmented message of many larger fragments',
  input: Buffer.concat([
    clientFrame(OP.BINARY, Buffer.alloc(200, 1), { fin: false }),
    clientFrame(OP.CONT, Buffer.alloc(300, 2), { fin: false }),
    clientFrame(OP.CONT, Buffer.alloc(700, 3), { fin: false }),
    clientFrame(OP.CONT, Buffer.alloc(100, 4))
  ]),
  expected: [ev.binary(Buffer.concat([Buffer.alloc(200, 1), Buffer.alloc(300, 2), Buffer.alloc(700, 3), Buffer.alloc(100, 4)]))]
})
add({
  name: 'zero-length fragments only',
  input: Buffer.concat([clientFrame(OP.TEXT, '', { fin: false }), clientFrame(OP.CONT, '', { fin: false }), clientFrame(OP.CONT, '')]),
  expected: [ev.text('')]
})
add({
  name: 'zero-length fragments around data',
  input: Buffer.concat([
    clientFrame(OP.BINARY, '', { fin: false }),
    clientFrame(OP.CONT, 'ab', { fin: false }),
    clientFrame(OP.CONT, '', { fin: false }),
    clientFrame(OP.CONT, 'cd', { fin: false }),
    clientFrame(OP.CONT, '')
  ]),
  expected: [ev.binary('abcd')]
})
add({
  name: 'empty first fragment, then the whole payload in the final one',
  input: Buffer.concat([clientFrame(OP.TEXT, '', { fin: false }), clientFrame(OP.CONT, 'whole')]),
  expected: [ev.text('whole')]
})
add({
  name: 'a 3-byte UTF-8 sequence split across three fragments',
  input: Buffer.concat([
    clientFrame(OP.TEXT, [0xe2], { fin: false }),
    clientFrame(OP.CONT, [0x82], { fin: false }),
    clientFrame(OP.CONT, [0xac])
  ]),
  expected: [ev.text('€')]
})
add({
  name: 'a 4-byte UTF-8 sequence split across fragments, 1 + 3',
  input: Buffer.concat([clientFrame(OP.TEXT, 'x', { fin: false }), clientFrame(OP.CONT, [0xf0], { fin: false }), clientFrame(OP.CONT, [0x9d, 0x84, 0x9e])]),
  expected: [ev.text('x𝄞')]
})
add({
  name: 'two fragmented messages in a row',
  input: Buffer.concat([
    clientFrame(OP.TEXT, 'a', { fin: false }), clientFrame(OP.CONT, 'b'),
    clientFrame(OP.BINARY, 'c', { fin: false }), clientFrame(OP.CONT, 'd')
  ]),
  expected: [ev.text('ab'), ev.binary('cd')]
})

// --- Control frames -------------------------------------------------------------------

add({ name: 'ping with data: pong written first, then the event', input: clientFrame(OP.PING, 'hi'), expected: [ev.wrotePong('hi'), ev.ping('hi')] })
add({ name: 'empty ping', input: clientFrame(OP.PING), expected: [ev.wrotePong(), ev.ping()] })
add({ name: 'ping of 125 bytes', input: clientFrame(OP.PING, Buffer.alloc(125, 0x70)), expected: [ev.wrotePong(Buffer.alloc(125, 0x70)), ev.ping(Buffer.alloc(125, 0x70))] })
add({ name: 'pong: no reply', input: clientFrame(OP.PONG, 'beat'), expected: [ev.pong('beat')] })
add({ name: 'empty pong', input: clientFrame(OP.PONG), expected: [ev.pong()] })

// --- Closing handshake (RFC 6455 §5.5.1) -------------------------------------------------

add({ name: 'close without a code: empty echo, 1005', input: clientFrame(OP.CLOSE), expected: [ev.wroteClose(), ev.close(1005)] })
add({ name: 'close 1000 without a reason', input: clientFrame(OP.CLOSE, closeBody(1000)), expected: [ev.wroteClose(1000), ev.close(1000)] })
add({ name: 'close with a reason: code echoed', input: clientFrame(OP.CLOSE, closeBody(1001, 'going away')), expected: [ev.wroteClose(1001), ev.close(1001, 'going away')] })
add({
  name: 'close with a UTF-8 reason of 123 bytes',
  input: clientFrame(OP.CLOSE, closeBody(4000, utf8Text(123))),
  expected: [ev.wroteClose(4000), ev.close(4000, utf8Text(123).toString())]
})
add({
  name: 'data after a close frame is ignored',
  input: Buffer.concat([clientFrame(OP.CLOSE, closeBody(1000, 'bye')), clientFrame(OP.TEXT, 'late'), clientFrame(OP.PING, 'late')]),
  expected: [ev.wroteClose(1000), ev.close(1000, 'bye')]
})
add({
  name: 'garbage after a close frame is ignored',
  input: Buffer.concat([clientFrame(OP.CLOSE), hex('ff ff ff ff ff ff')]),
  expected: [ev.wroteClose(), ev.close(1005)]
})
add({
  name: 'close inside a fragmented message ends it',
  input: Buffer.concat([clientFrame(OP.TEXT, 'par', { fin: false }), clientFrame(OP.CLOSE, closeBody(1000)), clientFrame(OP.CONT, 'tial')]),
  expected: [ev.wroteClose(1000), ev.close(1000)]
})
for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
  add({ name: `close code ${code} is accepted and echoed`, input: clientFrame(OP.CLOSE, closeBody(code, 'r')), expected: [ev.wroteClose(code), ev.close(code, 'r')] })
}
for (const code of [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
  add({ name: `close code ${code} fails with 1002`, input: clientFrame(OP.CLOSE, closeBody(code)), expected: failure(E.InvalidCloseCode, 1002) })
}
add({ name: 'a 1-byte close payload fails with 1002', input: clientFrame(OP.CLOSE, [0x03]), expected: failure(E.InvalidControlPayloadLength, 1002) })
for (const [label, reason] of [
  ['a lone continuation byte', [0x80]],
  ['a truncated sequence', [0xe2, 0x82]],
  ['a surrogate', [0xed, 0xa0, 0x80]],
  ['an overlong', [0xc0, 0x80]],
  ['0xFF', [0x61, 0xff]]
] as const) {
  add({ name: `a close reason with ${label} fails with 1007`, input: clientFrame(OP.CLOSE, closeBody(1000, reason)), expected: failure(E.InvalidUtf8, 1007) })
}

// --- Framing errors: 1002 ----------------------------------------------------------------

add({ name: 'an unmasked client text frame', input: serverFrame(OP.TEXT, 'hi'), expected: failure(E.ExpectedMask, 1002) })
add({ name: 'an unmasked client ping', input: serverFrame(OP.PING), expected: failure(E.ExpectedMask, 1002) })
add({ name: 'an unmasked client close', input: serverFrame(OP.CLOSE, closeBody(1000)), expected: failure(E.ExpectedMask, 1002) })
for (const rsv of ['rsv1', 'rsv2', 'rsv3'] as const) {
  // `ws`'s codes: RSV1 has its own (permessage-deflate gives it a meaning), RSV2/3 share one.
  const rsvCode = rsv === 'rsv1' ? E.UnexpectedRsv1 : E.UnexpectedRsv23
  add({ name: `${rsv} on a text frame`, input: clientFrame(OP.TEXT, 'x', { [rsv]: true }), expected: failure(rsvCode, 1002) })
  add({ name: `${rsv} on a continuation`, input: Buffer.concat([clientFrame(OP.TEXT, 'x', { fin: false }), clientFrame(OP.CONT, 'y', { [rsv]: true })]), expected: failure(rsvCode, 1002) })
  add({ name: `${rsv} on a ping`, input: clientFrame(OP.PING, '', { [rsv]: true }), expected: failure(rsvCode, 1002) })
}
add({ name: 'all RSV bits on a binary frame', input: clientFrame(OP.BINARY, 'x', { rsv1: true, rsv2: true, rsv3: true }), expected: failure(E.UnexpectedRsv23, 1002) })
for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
  add({ name: `reserved opcode 0x${opcode.toString(16)}`, input: clientFrame(opcode, 'x'), expected: failure(E.InvalidOpcode, 1002) })
  add({ name: `reserved opcode 0x${opcode.toString(16)}, empty, not final`, input: clientFrame(opcode, '', { fin: false }), expected: failure(E.InvalidOpcode, 1002) })
}
add({ name: 'a valid frame, then a reserved opcode', input: Buffer.concat([clientFrame(OP.TEXT, 'ok'), clientFrame(0x3)]), expected: [ev.text('ok'), ...failure(E.InvalidOpcode, 1002)] })
for (const opcode of [OP.PING, OP.PONG, OP.CLOSE]) {
  const name = opcode === OP.PING ? 'ping' : opcode === OP.PONG ? 'pong' : 'close'
  add({ name: `${name} of 126 bytes (16-bit length)`, input: clientFrame(opcode, Buffer.alloc(126)), expected: failure(E.InvalidControlPayloadLength, 1002) })
  add({ name: `${name} of 5 bytes with a non-minimal 16-bit length`, input: clientFrame(opcode, closeBody(1000, 'abc'), { lengthEncoding: 16 }), expected: failure(E.InvalidControlPayloadLength, 1002) })
  add({ name: `${name} with a 64-bit length`, input: clientFrame(opcode, closeBody(1000), { lengthEncoding: 64 }), expected: failure(E.InvalidControlPayloadLength, 1002) })
  add({ name: `fragmented ${name}`, input: clientFrame(opcode, closeBody(1000), { fin: false }), expected: failure(E.ExpectedFin, 1002) })
}
add({ name: 'a continuation with no message', input: clientFrame(OP.CONT, 'x'), expected: failure(E.InvalidOpcode, 1002) })
add({ name: 'an empty final continuation with no message', input: clientFrame(OP.CONT), expected: failure(E.InvalidOpcode, 1002) })
add({ name: 'a non-final continuation with no message', input: clientFrame(OP.CONT, 'x', { fin: false }), expected: failure(E.InvalidOpcode, 1002) })
add({
  name: 'a continuation after a complete message',
  input: Buffer.concat([clientFrame(OP.TEXT, 'a', { fin: false }), clientFrame(OP.CONT, 'b'), clientFrame(OP.CONT, 'c')]),
  expected: [ev.text('ab'), ...failure(E.InvalidOpcode, 1002)]
})
add({
  name: 'a new text frame inside a fragmented message',
  input: Buffer.concat([clientFrame(OP.TEXT, 'a', { fin: false }), clientFrame(OP.TEXT, 'b')]),
  expected: failure(E.InvalidOpcode, 1002)
})
add({
  name: 'a new binary frame inside a fragmented text message',
  input: Buffer.concat([clientFrame(OP.TEXT, 'a', { fin: false }), clientFrame(OP.CONT, 'b', { fin: false }), clientFrame(OP.BINARY, 'c', { fin: false })]),
  expected: failure(E.InvalidOpcode, 1002)
})
add({
  name: 'a 64-bit length with the top bit set',
  input: Buffer.concat([frameHeader({ opcode: OP.BINARY, lengthEncoding: 64, declaredLength: 0x8000000000000000n }), Buffer.alloc(16)]),
  expected: failure(E.UnsupportedDataPayloadLength, 1002)
})
add({
  name: 'a 64-bit length of all ones',
  input: frameHeader({ opcode: OP.TEXT, lengthEncoding: 64, declaredLength: 0xffffffffffffffffn }),
  expected: failure(E.UnsupportedDataPayloadLength, 1002)
})
add({
  name: 'a 64-bit length of 2^53 (above what a double counts exactly) is too big, not a protocol error (ws\'s code)',
  input: frameHeader({ opcode: OP.BINARY, lengthEncoding: 64, declaredLength: 2n ** 53n }),
  expected: failure(E.UnsupportedDataPayloadLength, 1009)
})

// --- Limits: 1009 -------------------------------------------------------------------------

add({
  name: 'a 64-bit length of 2^53 - 1 is too big for any limit but not a protocol error',
  input: frameHeader({ opcode: OP.BINARY, lengthEncoding: 64, declaredLength: 2n ** 53n - 1n }),
  expected: failure(E.MessageTooBig, 1009)
})
add({ name: '1 MiB + 1 with the default limit', input: frameHeader({ opcode: OP.BINARY, declaredLength: MiB + 1 }), expected: failure(E.MessageTooBig, 1009) })
add({ name: 'one byte over maxMessageSize', maxMessageSize: 10, input: clientFrame(OP.TEXT, 'x'.repeat(11)), expected: failure(E.MessageTooBig, 1009) })
add({ name: 'exactly maxMessageSize', maxMessageSize: 10, input: clientFrame(OP.TEXT, 'x'.repeat(10)), expected: [ev.text('x'.repeat(10))] })
add({
  name: 'maxMessageSize is counted across fragments',
  maxMessageSize: 10,
  input: Buffer.concat([clientFrame(OP.BINARY, Buffer.alloc(6), { fin: false }), clientFrame(OP.CONT, Buffer.alloc(5))]),
  expected: failure(E.MessageTooBig, 1009)
})
add({
  name: 'fragments adding up to exactly maxMessageSize',
  maxMessageSize: 10,
  input: Buffer.concat([clientFrame(OP.BINARY, Buffer.alloc(6, 1), { fin: false }), clientFrame(OP.PING), clientFrame(OP.CONT, Buffer.alloc(4, 2))]),
  expected: [ev.wrotePong(), ev.ping(), ev.binary(Buffer.concat([Buffer.alloc(6, 1), Buffer.alloc(4, 2)]))]
})
add({
  name: 'the limit is per message: the next message starts from zero',
  maxMessageSize: 10,
  input: Buffer.concat([clientFrame(OP.BINARY, Buffer.alloc(10)), clientFrame(OP.BINARY, Buffer.alloc(10))]),
  expected: [ev.binary(Buffer.alloc(10)), ev.binary(Buffer.alloc(10))]
})
add({ name: 'maxMessageSize 0 accepts empty messages', maxMessageSize: 0, input: clientFrame(OP.TEXT), expected: [ev.text('')] })
add({ name: 'maxMessageSize 0 rejects one byte', maxMessageSize: 0, input: clientFrame(OP.TEXT, 'a'), expected: failure(E.MessageTooBig, 1009) })
add({ name: 'control frames do not count towards maxMessageSize', maxMessageSize: 0, input: clientFrame(OP.PING, 'abc'), expected: [ev.wrotePong('abc'), ev.ping('abc')] })
add({ name: 'maxMessageSize Infinity', maxMessageSize: Infinity, input: clientFrame(OP.BINARY, Buffer.alloc(70000, 5)), expected: [ev.binary(Buffer.alloc(70000, 5))] })

// --- Invalid UTF-8 in text: 1007 ----------------------------------------------------------

for (const [label, payload] of [
  ['0xFF', [0xff]],
  ['0xF5', [0xf5, 0x80, 0x80, 0x80]],
  ['a lone continuation byte', [0x61, 0x80, 0x61]],
  ['overlong C0 80', [0xc0, 0x80]],
  ['overlong C1 BF', [0xc1, 0xbf]],
  ['overlong E0 80 80', [0xe0, 0x80, 0x80]],
  ['overlong F0 80 80 80', [0xf0, 0x80, 0x80, 0x80]],
  ['a surrogate ED A0 80', [0xed, 0xa0, 0x80]],
  ['a low surrogate ED BF BF', [0xed, 0xbf, 0xbf]],
  ['above U+10FFFF, F4 90 80 80', [0xf4, 0x90, 0x80, 0x80]],
  ['a truncated sequence at the end', [0x61, 0xe2, 0x82]],
  ['a truncated 4-byte sequence at the end', [0xf0, 0x9d, 0x84]],
  ['a sequence cut by ASCII', [0xe2, 0x41, 0xac]],
  ['valid text then 0xFE', Buffer.concat([utf8Text(200), Buffer.from([0xfe])])]
] as const) {
  add({ name: `text with ${label}`, input: clientFrame(OP.TEXT, Buffer.from(payload)), expected: failure(E.InvalidUtf8, 1007) })
}
add({
  name: 'fragmented text ending inside a sequence',
  input: Buffer.concat([clientFrame(OP.TEXT, 'ab', { fin: false }), clientFrame(OP.CONT, [0xe2, 0x82])]),
  expected: failure(E.InvalidUtf8, 1007)
})
add({
  name: 'fragmented text ending inside a sequence, with an empty final fragment',
  input: Buffer.concat([clientFrame(OP.TEXT, [0xe2, 0x82], { fin: false }), clientFrame(OP.CONT)]),
  expected: failure(E.InvalidUtf8, 1007)
})
add({
  name: 'a bad continuation in the second fragment',
  input: Buffer.concat([clientFrame(OP.TEXT, [0xe2], { fin: false }), clientFrame(OP.CONT, [0x41], { fin: false }), clientFrame(OP.CONT, 'z')]),
  expected: failure(E.InvalidUtf8, 1007)
})
add({
  name: 'binary messages are not UTF-8 checked',
  input: Buffer.concat([clientFrame(OP.BINARY, [0xff, 0xe2], { fin: false }), clientFrame(OP.CONT, [0xc0, 0x80])]),
  expected: [ev.binary([0xff, 0xe2, 0xc0, 0x80])]
})
add({
  name: 'a text message after an invalid binary one starts a fresh UTF-8 check',
  input: Buffer.concat([clientFrame(OP.BINARY, [0xe2]), clientFrame(OP.TEXT, 'ok')]),
  expected: [ev.binary([0xe2]), ev.text('ok')]
})
add({
  name: 'a text message following a completed one does not inherit its state',
  input: Buffer.concat([clientFrame(OP.TEXT, '€'), clientFrame(OP.TEXT, [0x82])]),
  expected: [ev.text('€'), ...failure(E.InvalidUtf8, 1007)]
})

// --- Run them all -------------------------------------------------------------------------

/** Valid frames appended after a fixture that ended in a close or a failure. */
const trailer = Buffer.concat([clientFrame(OP.TEXT, 'after'), clientFrame(OP.PING, 'after'), clientFrame(OP.CLOSE, closeBody(1000))])

for (const fixture of fixtures) {
  t.test(fixture.name, async (t) => {
    const options = { role: 'server' as const, maxMessageSize: fixture.maxMessageSize }
    const whole = checkAllChunkings(t, fixture.input, fixture.expected, options, fixture.chunking)

    const last = fixture.expected.at(-1)?.type
    if (last === 'error' || last === 'close') {
      // After a close or a failure, input is discarded: no event, no write, no throw.
      for (const chunks of [[fixture.input, trailer], [Buffer.concat([fixture.input, trailer])]]) {
        const run = runChunks(options, chunks)
        t.same(run.timeline, whole.timeline, 'nothing more is emitted for input after the end')
        t.doesNotThrow(() => feedOne(run, buildFrame({ opcode: 0xf })), 'later input is discarded')
        t.equal(run.timeline.length, whole.timeline.length)
      }
    }
  })
}

t.test('exact bytes out', async (t) => {
  // Auto-pong: FIN + pong, unmasked, same payload.
  const pong = runChunks({ role: 'server' }, [clientFrame(OP.PING, 'hi')])
  t.same(pong.written, ['8a026869'])
  // Close echo: the code only.
  const echo = runChunks({ role: 'server' }, [clientFrame(OP.CLOSE, closeBody(1000, 'bye'))])
  t.same(echo.written, ['880203e8'])
  const empty = runChunks({ role: 'server' }, [clientFrame(OP.CLOSE)])
  t.same(empty.written, ['8800'])
  // Failure: 88, length, 03 EA (1002), then the reason.
  const failed = runChunks({ role: 'server' }, [serverFrame(OP.TEXT, 'x')])
  const reason = Buffer.from('Invalid WebSocket frame: MASK must be set') // ws's wording
  t.same(failed.written, [Buffer.concat([hex('88'), Buffer.from([2 + reason.length]), hex('03ea'), reason]).toString('hex')])
  const tooBig = runChunks({ role: 'server', maxMessageSize: 1 }, [clientFrame(OP.TEXT, 'xx')])
  t.equal(tooBig.written[0].slice(0, 8), `88${(2 + 'Max payload size exceeded'.length).toString(16)}03f1`, '1009 = 0x03F1')
  const badUtf8 = runChunks({ role: 'server' }, [clientFrame(OP.TEXT, [0xff])])
  t.equal(badUtf8.written[0].slice(4, 8), '03ef', '1007 = 0x03EF')
})
