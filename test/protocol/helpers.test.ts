// The test helpers are checked too: a frame builder or a chunking helper that quietly did the
// wrong thing would make every other test meaningless.
import t from 'tap'
import { EXAMPLE_MASK, OP, buildFrame, clientFrame, closeBody, closeFrame, computeAccept, decodeClose, decodeFrame, frameHeader, hex, parseFrame, parseFrames, rsvFlags, serverFrame, xorMask } from '../helpers/frames.js'
import { chunkings, cutAt, splitOffsets } from '../helpers/chunkings.js'
import { randomBytes, seededRandom } from '../helpers/seeded-random.js'

t.test('frame builder: the RFC 6455 §5.7 examples', async (t) => {
  t.equal(buildFrame({ opcode: OP.TEXT, payload: 'Hello', mask: false }).toString('hex'), '810548656c6c6f')
  t.equal(buildFrame({ opcode: OP.TEXT, payload: 'Hello' }).toString('hex'), '818537fa213d7f9f4d5158', 'masked with the example key by default')
  t.equal(buildFrame({ opcode: OP.TEXT, payload: 'Hel', fin: false, mask: false }).toString('hex'), '010348656c')
  t.equal(buildFrame({ opcode: OP.CONT, payload: 'lo', mask: false }).toString('hex'), '80026c6f')
  t.equal(buildFrame({ opcode: OP.PING, payload: 'Hello', mask: false }).toString('hex'), '890548656c6c6f')
  t.equal(buildFrame({ opcode: OP.BINARY, payload: Buffer.alloc(256), mask: false }).subarray(0, 4).toString('hex'), '827e0100')
  t.equal(buildFrame({ opcode: OP.BINARY, payload: Buffer.alloc(65536), mask: false }).subarray(0, 10).toString('hex'), '827f0000000000010000')
})

t.test('frame builder: flags, forced encodings and declared lengths', async (t) => {
  t.equal(frameHeader({ opcode: OP.TEXT, rsv1: true, mask: false }).toString('hex'), 'c100')
  t.equal(frameHeader({ opcode: OP.TEXT, rsv2: true, mask: false }).toString('hex'), 'a100')
  t.equal(frameHeader({ opcode: OP.TEXT, rsv3: true, mask: false }).toString('hex'), '9100')
  t.equal(frameHeader({ opcode: 0xf, fin: false, mask: false }).toString('hex'), '0f00')
  t.equal(frameHeader({ opcode: OP.TEXT, payload: 'abc', lengthEncoding: 16, mask: false }).toString('hex'), '817e0003', 'non-minimal 16-bit')
  t.equal(frameHeader({ opcode: OP.TEXT, payload: 'abc', lengthEncoding: 64, mask: false }).toString('hex'), '817f0000000000000003', 'non-minimal 64-bit')
  t.equal(frameHeader({ opcode: OP.BINARY, declaredLength: 2n ** 63n, mask: false }).toString('hex'), '827f8000000000000000', 'top bit set')
  t.equal(frameHeader({ opcode: OP.BINARY, declaredLength: 5 }).toString('hex'), '828537fa213d', 'declared length, mask key included')
  t.equal(frameHeader({ opcode: OP.BINARY, mask: [1, 2, 3, 4] }).toString('hex'), '828001020304')
  t.throws(() => frameHeader({ opcode: OP.TEXT, payload: Buffer.alloc(126), lengthEncoding: 7 }), RangeError)
  t.throws(() => frameHeader({ opcode: OP.TEXT, declaredLength: 65536, lengthEncoding: 16 }), RangeError)
  t.throws(() => frameHeader({ opcode: OP.TEXT, mask: [1, 2, 3] }), RangeError)
})

t.test('decodeFrame undoes buildFrame()', async (t) => {
  const payload = randomBytes(seededRandom(1), 300)
  const decoded = decodeFrame(buildFrame({ opcode: OP.BINARY, payload, fin: false, rsv2: true, mask: [9, 8, 7, 6] }))
  t.match(decoded, { fin: false, rsv1: false, rsv2: true, rsv3: false, opcode: OP.BINARY, masked: true, lengthBytes: 2, headerLength: 8 })
  t.same(decoded.maskKey, Buffer.from([9, 8, 7, 6]))
  t.ok(decoded.payload.equals(payload))
  t.same(decodeFrame(buildFrame({ opcode: OP.CLOSE, payload: closeBody(1000, 'x'), mask: false })).payload, hex('03e878'))
  t.throws(() => decodeFrame(hex('81')), RangeError, 'short')
  t.throws(() => decodeFrame(hex('8105 6869')), RangeError, 'length mismatch')
  t.same(xorMask(hex('00000000 00'), EXAMPLE_MASK, 1).toString('hex'), 'fa213d37fa', 'xorMask with an offset')
})

t.test('parseFrame and parseFrames: incremental decoding, close bodies decoded', async (t) => {
  const first = clientFrame(OP.TEXT, 'abc')
  const second = serverFrame(OP.CLOSE, closeBody(4001, 'bye'))
  const both = Buffer.concat([first, second])
  for (let end = 0; end < first.length; end++) t.equal(parseFrame(both.subarray(0, end)), null, `null on a ${end}-byte prefix`)
  const parsed = parseFrame(both)
  t.equal(parsed?.length, first.length, 'the length of the first frame only')
  t.equal(parsed?.frame.payload.toString(), 'abc')
  t.same(parsed?.frame.maskKey, EXAMPLE_MASK, 'clientFrame masks with the example key')
  const second2 = parseFrame(both, first.length)
  t.match(second2?.frame, { opcode: OP.CLOSE, masked: false, maskKey: null, closeCode: 4001, closeReason: 'bye' }, 'from an offset')
  const { frames, rest } = parseFrames(Buffer.concat([both, second.subarray(0, 3)]))
  t.same(frames.map((f) => f.opcode), [OP.TEXT, OP.CLOSE])
  t.same(rest, second.subarray(0, 3), 'the incomplete tail')
  t.equal(decodeFrame(closeFrame()).closeCode, undefined, 'an empty close body has no code')
  t.same(decodeClose(closeBody(1000, 'é')), { code: 1000, reason: 'é' })
  t.throws(() => parseFrame(hex('827f 0020000000000000')), RangeError, 'a length beyond 2^53 - 1 cannot be held')
})

t.test('rsvFlags numbers RSV bits as the Autobahn testsuite does', async (t) => {
  t.same(rsvFlags(4), { rsv1: true, rsv2: false, rsv3: false })
  t.same(rsvFlags(2), { rsv1: false, rsv2: true, rsv3: false })
  t.same(rsvFlags(1), { rsv1: false, rsv2: false, rsv3: true })
  t.equal(clientFrame(OP.TEXT, '', { ...rsvFlags(7), mask: false }).toString('hex'), 'f100')
})

t.test('computeAccept: the RFC 6455 §1.3 example', async (t) => {
  t.equal(computeAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
})

t.test('seededRandom is deterministic, in [0, 1), and seed-dependent', async (t) => {
  const a = seededRandom(123)
  const b = seededRandom(123)
  const c = seededRandom(124)
  const seqA = Array.from({ length: 1000 }, a)
  const seqB = Array.from({ length: 1000 }, b)
  const seqC = Array.from({ length: 1000 }, c)
  t.same(seqA, seqB)
  t.notSame(seqA, seqC)
  t.ok(seqA.every((x) => x >= 0 && x < 1))
  t.ok(new Set(seqA).size > 990, 'no short cycle')
  const mean = seqA.reduce((s, x) => s + x, 0) / seqA.length
  t.ok(mean > 0.45 && mean < 0.55, `roughly uniform (mean ${mean.toFixed(3)})`)
})

t.test('chunkings: every chunking is the same bytes, in fresh copies', async (t) => {
  const input = randomBytes(seededRandom(2), 50)
  const original = Buffer.from(input)
  const names: string[] = []
  const all = [...chunkings(input)]
  for (const chunking of all) {
    names.push(chunking.name)
    t.ok(Buffer.concat(chunking.chunks).equals(input), `${chunking.name} concatenates to the input`)
  }
  // Scribble over every chunk (as the parser's in-place unmasking does): the input and the
  // other chunkings are unaffected.
  for (const chunking of all) for (const chunk of chunking.chunks) chunk.fill(0xee)
  t.ok(input.equals(original), 'the input is not shared with any chunking')
  t.ok([...chunkings(input)].every((c) => Buffer.concat(c.chunks).equals(original)), 'nor are new chunkings')
  t.same(names.slice(0, 3), ['whole', 'byte-by-byte', 'split@1'])
  t.equal(names.filter((n) => n.startsWith('split@')).length, 49, 'split at every offset')
  t.equal(names.filter((n) => n.startsWith('random#')).length, 8)
  const byteByByte = [...chunkings(input)][1]
  t.ok(byteByByte.chunks.every((c) => c.length === 1) && byteByByte.chunks.length === 50)
  const again = [...chunkings(input)].map((c) => c.chunks.map((x) => x.length))
  t.same(again, [...chunkings(input)].map((c) => c.chunks.map((x) => x.length)), 'deterministic')
  const randoms = [...chunkings(input)].filter((c) => c.name.startsWith('random#'))
  t.ok(new Set(randoms.map((c) => c.chunks.map((x) => x.length).join())).size > 4, 'random chunkings differ from each other')
})

t.test('chunkings: small and large inputs', async (t) => {
  t.same([...chunkings(Buffer.alloc(0))].map((c) => c.name), ['whole', 'random#1', 'random#2', 'random#3', 'random#4', 'random#5', 'random#6', 'random#7', 'random#8'])
  t.ok([...chunkings(Buffer.alloc(0))].every((c) => Buffer.concat(c.chunks).length === 0))
  const offsets = splitOffsets(100000)
  t.ok(offsets.includes(1) && offsets.includes(256) && offsets.includes(99999) && offsets.includes(100000 - 256), 'edges of a large input')
  t.ok(offsets.length < 600, 'but not every offset')
  t.ok(offsets.every((o, i) => o > 0 && o < 100000 && (i === 0 || o > offsets[i - 1])), 'sorted, distinct, in range')
  t.equal(splitOffsets(4096).length, 4095, 'exhaustive up to the limit')
  t.same([...chunkings(Buffer.alloc(10), { byteByByteLimit: 5, seeds: [] })].map((c) => c.name).includes('byte-by-byte'), false)
  t.same(cutAt(hex('010203'), [1, 2]).map((c) => c.toString('hex')), ['01', '02', '03'])
})
