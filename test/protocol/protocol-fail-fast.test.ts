// Failures decided as early as the bytes allow: the size limit from the header alone (before
// any payload), invalid UTF-8 as soon as the offending byte arrives, in one frame or across
// fragments. Each case feeds the input one byte at a time and asserts the exact byte at
// which the connection fails.
import t from 'tap'
import { OP, clientFrame, closeBody, frameHeader } from '../helpers/frames.js'
import { failFastLength } from '../helpers/utf8-reference.js'
import { randomBytes, seededRandom } from '../helpers/seeded-random.js'
import { createProtocol, feed, type Run } from '../helpers/protocol-recorder.js'
import { ProtocolErrorCode as E } from '../../src/protocol/index.js'

/** Feeds one chunk and pulls every event it completes. */
function feedOne (run: Run, chunk: Buffer): void {
  feed(run, [chunk])
}

/** Feeds `input` byte by byte; returns the index of the byte after which the error came, or -1. */
function failingByte (run: Run, original: Buffer): number {
  const input = Buffer.from(original) // received bytes are unmasked in place
  for (let i = 0; i < input.length; i++) {
    feedOne(run, input.subarray(i, i + 1))
    if (run.timeline.some((entry) => entry.type === 'error')) return i
  }
  return -1
}

function errorOf (run: Run): { code: string, closeCode: number } | undefined {
  const entry = run.timeline.find((e) => e.type === 'error')
  return entry?.type === 'error' ? { code: entry.code, closeCode: entry.closeCode } : undefined
}

t.test('message too big is decided from the header alone', async (t) => {
  const cases: Array<{ name: string, header: Buffer, maxMessageSize?: number }> = [
    { name: '7-bit length 11 over a limit of 10', header: frameHeader({ opcode: OP.TEXT, declaredLength: 11 }), maxMessageSize: 10 },
    { name: '16-bit length 1000 over a limit of 999', header: frameHeader({ opcode: OP.BINARY, declaredLength: 1000 }), maxMessageSize: 999 },
    { name: '64-bit length 2^40 over the default 1 MiB', header: frameHeader({ opcode: OP.BINARY, declaredLength: 2 ** 40 }) },
    { name: '64-bit length 1 MiB + 1 over the default', header: frameHeader({ opcode: OP.TEXT, declaredLength: 1024 * 1024 + 1 }) },
    { name: 'non-minimal 64-bit length 11 over 10', header: frameHeader({ opcode: OP.TEXT, declaredLength: 11, lengthEncoding: 64 }), maxMessageSize: 10 }
  ]
  for (const c of cases) {
    const run = createProtocol({ role: 'server', maxMessageSize: c.maxMessageSize })
    // Only the header (with its mask key) is fed: not one byte of payload.
    t.equal(failingByte(run, c.header), c.header.length - 1, `${c.name}: fails on the last header byte`)
    t.same(errorOf(run), { code: E.MessageTooBig, closeCode: 1009 }, `${c.name}: 1009`)
    t.match(run.timeline[0], { type: 'write', frame: /^close 1009 / }, `${c.name}: close 1009 written`)
    t.equal(run.timeline.length, 2)
  }
})

t.test('message too big is counted across fragments, still before the payload', async (t) => {
  const first = clientFrame(OP.BINARY, Buffer.alloc(600, 1), { fin: false })
  const ping = clientFrame(OP.PING, 'between')
  const secondHeader = frameHeader({ opcode: OP.CONT, declaredLength: 401 })
  const run = createProtocol({ role: 'server', maxMessageSize: 1000 })
  const input = Buffer.concat([first, ping, secondHeader])
  t.equal(failingByte(run, input), input.length - 1, 'fails on the last byte of the second header')
  t.same(errorOf(run), { code: E.MessageTooBig, closeCode: 1009 })

  // 600 + 400 fits exactly.
  const ok = createProtocol({ role: 'server', maxMessageSize: 1000 })
  feedOne(ok, Buffer.concat([first, clientFrame(OP.CONT, Buffer.alloc(400, 2))]))
  t.same(ok.timeline.map((e) => e.type), ['message'])

  // Many small fragments: the 11th byte is one too many.
  const many = createProtocol({ role: 'server', maxMessageSize: 10 })
  const frames = [clientFrame(OP.TEXT, 'a', { fin: false })]
  for (let i = 0; i < 9; i++) frames.push(clientFrame(OP.CONT, 'b', { fin: false }))
  const lastHeader = frameHeader({ opcode: OP.CONT, declaredLength: 1 })
  const manyInput = Buffer.concat([...frames, lastHeader])
  t.equal(failingByte(many, manyInput), manyInput.length - 1)
  t.same(errorOf(many), { code: E.MessageTooBig, closeCode: 1009 })
})

t.test('invalid UTF-8 in the first fragment fails before the final fragment is fed', async (t) => {
  const first = clientFrame(OP.TEXT, [0x68, 0x69, 0xff, 0x21], { fin: false })
  const run = createProtocol({ role: 'server' })
  feedOne(run, Buffer.from(first))
  t.same(errorOf(run), { code: E.InvalidUtf8, closeCode: 1007 }, 'failed with only the first fragment fed')
  t.match(run.timeline[0], { type: 'write', frame: /^close 1007 / })
  // Feeding the rest changes nothing.
  feedOne(run, clientFrame(OP.CONT, 'end'))
  t.equal(run.timeline.length, 2)

  // Byte by byte: the failure comes with the 0xFF byte itself (header 6 + 2 payload bytes).
  const byByte = createProtocol({ role: 'server' })
  t.equal(failingByte(byByte, Buffer.concat([first, clientFrame(OP.CONT, 'end')])), 6 + 2)
})

t.test('within one frame, an invalid prefix fails as soon as its bytes arrive', async (t) => {
  const payloads: Array<[string, number[]]> = [
    ['F4 90 (above U+10FFFF)', [0x61, 0x62, 0xf4, 0x90, 0x80, 0x80, 0x63, 0x64]],
    ['ED A0 (surrogate)', [0x61, 0xed, 0xa0, 0x80, 0x61]],
    ['E0 80 (overlong)', [0xe0, 0x80, 0x80, 0x61, 0x61]],
    ['F0 80 (overlong)', [0xf0, 0x80, 0x80, 0x80]],
    ['C0 (never valid)', [0x61, 0x61, 0x61, 0xc0, 0x80]],
    ['F5 (never valid)', [0xf5, 0x80, 0x80, 0x80]],
    ['a lone continuation', [0x61, 0x80, 0x61, 0x61]],
    ['E2 82 then ASCII', [0xe2, 0x82, 0x41, 0x41]],
    ['late in a long valid text', [...Buffer.from('€'.repeat(100)), 0xf4, 0x90]]
  ]
  for (const [label, bytes] of payloads) {
    const payload = Buffer.from(bytes)
    const input = clientFrame(OP.TEXT, payload)
    const headerLength = input.length - payload.length
    const expected = failFastLength(payload)
    t.ok(expected > 0, `${label}: the reference sees an invalid prefix`)
    const run = createProtocol({ role: 'server' })
    t.equal(failingByte(run, input), headerLength + expected - 1, `${label}: fails on payload byte ${expected - 1}`)
    t.same(errorOf(run), { code: E.InvalidUtf8, closeCode: 1007 })
  }
})

t.test('a sequence that is only incomplete fails at the end of the message, not before', async (t) => {
  const input = Buffer.concat([clientFrame(OP.TEXT, [0x61, 0xf0, 0x9f], { fin: false }), clientFrame(OP.CONT, [0x98], { fin: true })])
  const run = createProtocol({ role: 'server' })
  t.equal(failingByte(run, input), input.length - 1, 'fails with the last byte of the message')
  t.same(errorOf(run), { code: E.InvalidUtf8, closeCode: 1007 })
})

t.test('across fragments, the bad continuation byte fails at once', async (t) => {
  const first = clientFrame(OP.TEXT, [0x61, 0xe2], { fin: false })
  const second = clientFrame(OP.CONT, [0x82, 0x41, 0x61], { fin: false })
  const input = Buffer.concat([first, second, clientFrame(OP.CONT, 'end')])
  const run = createProtocol({ role: 'server' })
  // Second fragment: 6 header bytes, then 0x82 (fine), then 0x41 (not a continuation).
  t.equal(failingByte(run, input), first.length + 6 + 1)
  t.same(errorOf(run), { code: E.InvalidUtf8, closeCode: 1007 })
})

t.test('fail-fast offsets agree with the reference on random text payloads', async (t) => {
  const random = seededRandom(1007)
  let invalid = 0
  for (let i = 0; i < 300; i++) {
    // Mostly valid text with a few random bytes mixed in.
    const parts: Buffer[] = []
    const pieces = 1 + Math.floor(random() * 6)
    for (let p = 0; p < pieces; p++) {
      parts.push(random() < 0.7 ? Buffer.from('aé€𝄞'.slice(0, 1 + Math.floor(random() * 5))) : randomBytes(random, 1 + Math.floor(random() * 2)))
    }
    const payload = Buffer.concat(parts)
    const input = clientFrame(OP.TEXT, payload)
    const headerLength = input.length - payload.length
    const expected = failFastLength(payload)
    const run = createProtocol({ role: 'server' })
    const at = failingByte(run, input)
    if (expected === -1) {
      // Valid, or only incomplete at the end.
      const complete = run.timeline.some((e) => e.type === 'message')
      t.ok(complete ? at === -1 : at === input.length - 1, `case ${i}: no early failure`)
    } else {
      invalid++
      t.equal(at, headerLength + expected - 1, `case ${i}: fails on the first impossible byte`)
    }
  }
  t.ok(invalid > 50, 'the corpus has plenty of invalid cases')
})

t.test('a valid close after the limit check does not count towards it', async (t) => {
  const run = createProtocol({ role: 'server', maxMessageSize: 2 })
  feedOne(run, Buffer.concat([clientFrame(OP.BINARY, 'ab', { fin: false }), clientFrame(OP.CLOSE, closeBody(1000))]))
  t.same(run.timeline.map((e) => e.type), ['write', 'close'])
})
