// The serializer: minimal length encodings, header layout, the [header, payload] split for
// large unmasked frames, masked copies for clients, and a seeded random round trip through
// the parser (and through the independent test decoder).
import t from 'tap'
import {
  FrameParser,
  MAX_HEADER_SIZE,
  encodeFrame,
  headerSize,
  writeFrameHeader,
  type FrameSink
} from '../../src/protocol/index.js'
import { SMALL_FRAME_COPY_LIMIT } from '../../src/protocol/frame-serializer.js'
import { OP, decodeFrame, buildFrame, xorMask } from '../helpers/frames.js'
import { chunkings } from '../helpers/chunkings.js'
import { randomBytes, randomInt, seededRandom } from '../helpers/seeded-random.js'

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d])

t.test('minimal length encodings', async (t) => {
  const cases: Array<[number, string]> = [
    [0, '8200'],
    [1, '8201'],
    [125, '827d'],
    [126, '827e007e'],
    [127, '827e007f'],
    [65535, '827effff'],
    [65536, '827f0000000000010000'],
    [5 * 1024 * 1024 + 7, '827f0000000000500007']
  ]
  for (const [length, header] of cases) {
    const payload = Buffer.alloc(length, 0x5a)
    const chunks = encodeFrame(OP.BINARY, payload)
    const joined = Buffer.concat(chunks)
    t.equal(joined.subarray(0, header.length / 2).toString('hex'), header, `length ${length}: header`)
    t.equal(joined.length, header.length / 2 + length, `length ${length}: total size`)
    t.equal(headerSize(length, false), header.length / 2, `headerSize(${length}, false)`)
    t.equal(headerSize(length, true), header.length / 2 + 4, `headerSize(${length}, true)`)
    // The independent builder makes the same bytes.
    t.ok(joined.equals(buildFrame({ opcode: OP.BINARY, payload, mask: false })), `length ${length}: same as the test builder`)
    const masked = Buffer.concat(encodeFrame(OP.BINARY, payload, { maskKey: MASK }))
    t.ok(masked.equals(buildFrame({ opcode: OP.BINARY, payload, mask: MASK })), `length ${length} masked: same as the test builder`)
  }
  t.equal(MAX_HEADER_SIZE, 14)
  t.equal(headerSize(2 ** 53 - 1, true), MAX_HEADER_SIZE)
})

t.test('writeFrameHeader: bits, offsets, and lengths beyond 32 bits', async (t) => {
  const target = Buffer.alloc(20, 0xee)
  const end = writeFrameHeader(target, 3, OP.TEXT, false, true, 2 ** 40 + 0x01020304, MASK)
  t.equal(end, 3 + 14)
  t.equal(target.subarray(3, end).toString('hex'), '41' + 'ff' + '0000010001020304' + '37fa213d')
  t.equal(target[2], 0xee, 'nothing written before the offset')
  t.equal(target[17], 0xee, 'nothing written after the header')

  const cases: Array<[number, boolean, boolean, string]> = [
    [OP.CLOSE, true, false, '88'],
    [OP.PING, true, false, '89'],
    [OP.PONG, true, false, '8a'],
    [OP.CONT, false, false, '00'],
    [OP.CONT, true, false, '80'],
    [OP.TEXT, true, true, 'c1'],
    [OP.BINARY, false, true, '42']
  ]
  for (const [opcode, fin, rsv1, first] of cases) {
    const header = Buffer.alloc(2)
    t.equal(writeFrameHeader(header, 0, opcode, fin, rsv1, 0, undefined), 2)
    t.equal(header.toString('hex'), first + '00', `opcode ${opcode} fin ${String(fin)} rsv1 ${String(rsv1)}`)
  }
  const big = Buffer.alloc(10)
  writeFrameHeader(big, 0, OP.BINARY, true, false, 2 ** 53 - 1, undefined)
  t.equal(big.toString('hex'), '827f001fffffffffffff', '2^53 - 1')
})

t.test('encodeFrame: chunks for server and client frames', async (t) => {
  const small = Buffer.from('hello')
  const serverSmall = encodeFrame(OP.TEXT, small)
  t.equal(serverSmall.length, 1, 'small server frame: one chunk')
  t.equal(serverSmall[0].toString('hex'), '810568656c6c6f')

  const atLimit = Buffer.alloc(SMALL_FRAME_COPY_LIMIT, 1)
  t.equal(encodeFrame(OP.BINARY, atLimit).length, 1, `${SMALL_FRAME_COPY_LIMIT} bytes: still copied`)
  const overLimit = Buffer.alloc(SMALL_FRAME_COPY_LIMIT + 1, 1)
  const split = encodeFrame(OP.BINARY, overLimit)
  t.equal(split.length, 2, 'over the limit: [header, payload]')
  t.equal(split[1], overLimit, 'the payload is not copied')
  t.equal(split[0].toString('hex'), '827e0401')

  const maskedPayload = Buffer.from('Hello')
  const masked = encodeFrame(OP.TEXT, maskedPayload, { maskKey: MASK })
  t.equal(masked.length, 1)
  t.equal(masked[0].toString('hex'), '818537fa213d7f9f4d5158', 'RFC 6455 §5.7 masked "Hello"')
  t.equal(maskedPayload.toString(), 'Hello', "the caller's payload is untouched")

  const bigMasked = Buffer.alloc(70000, 9)
  const bigChunks = encodeFrame(OP.BINARY, bigMasked, { maskKey: MASK })
  t.equal(bigChunks.length, 1)
  t.ok(decodeFrame(bigChunks[0]).payload.equals(bigMasked))
  t.ok(bigMasked.every((b) => b === 9), 'large payload untouched too')

  t.equal(encodeFrame(OP.TEXT, Buffer.from('x'), { fin: false })[0].toString('hex'), '010178')
  t.equal(encodeFrame(OP.TEXT, Buffer.from('x'), { rsv1: true })[0].toString('hex'), 'c10178')
  t.equal(encodeFrame(OP.PING, Buffer.alloc(0), { maskKey: new Uint8Array([0, 0, 0, 0]) })[0].toString('hex'), '898000000000', 'zero mask key')
})

interface Parsed { opcode: number, fin: boolean, payload: Buffer }

function parseFrames (chunks: Iterable<Buffer>, role: 'server' | 'client'): { frames: Parsed[], errors: string[] } {
  const frames: Parsed[] = []
  const errors: string[] = []
  let current: Parsed | null = null
  let pieces: Buffer[] = []
  const sink: FrameSink = {
    onDataFrameStart (opcode, fin) { current = { opcode, fin, payload: Buffer.alloc(0) }; pieces = []; return false },
    onDataPayload (piece) { pieces.push(Buffer.from(piece)); return false },
    onDataFrameEnd () { current!.payload = Buffer.concat(pieces); frames.push(current!); return false },
    onControlFrame (opcode, payload) { frames.push({ opcode, fin: true, payload: Buffer.from(payload) }); return false },
    onFrameError (error) { errors.push(error.code) }
  }
  const parser = new FrameParser(sink, { role })
  for (const chunk of chunks) {
    parser.push(chunk)
    parser.parse()
  }
  return { frames, errors }
}

t.test('seeded random round trip: serializer -> parser, in random chunkings', async (t) => {
  const random = seededRandom(20240601)
  const sizes = [0, 1, 2, 3, 4, 5, 124, 125, 126, 127, 128, 1023, 1024, 1025, 65535, 65536, 65537, 100000]
  const failures: string[] = []
  let checked = 0
  for (let round = 0; round < 40; round++) {
    const expected: Parsed[] = []
    const serverChunks: Buffer[] = []
    const clientChunks: Buffer[] = []
    const count = randomInt(random, 1, 6)
    for (let i = 0; i < count; i++) {
      const control = random() < 0.3
      const opcode = control ? [OP.PING, OP.PONG, OP.CLOSE][randomInt(random, 0, 2)] : [OP.TEXT, OP.BINARY, OP.CONT][randomInt(random, 0, 2)]
      const length = control ? randomInt(random, 0, 125) : random() < 0.5 ? sizes[randomInt(random, 0, sizes.length - 1)] : randomInt(random, 0, 3000)
      const payload = randomBytes(random, length)
      const fin = control || random() < 0.7
      expected.push({ opcode, fin, payload })
      serverChunks.push(...encodeFrame(opcode, payload, { fin }))
      clientChunks.push(...encodeFrame(opcode, payload, { fin, maskKey: randomBytes(random, 4) }))
    }
    // Server-written frames are read by a client, client-written ones by a server.
    for (const [role, stream] of [['client', Buffer.concat(serverChunks)], ['server', Buffer.concat(clientChunks)]] as const) {
      for (const chunking of chunkings(stream, { exhaustiveSplitLimit: 0, edge: 20, sampled: 10, seeds: [round + 1, round + 2], byteByByteLimit: 4096 })) {
        checked++
        const result = parseFrames(chunking.chunks, role)
        if (result.errors.length > 0 || result.frames.length !== expected.length ||
          result.frames.some((f, i) => f.opcode !== expected[i].opcode || f.fin !== expected[i].fin || !f.payload.equals(expected[i].payload))) {
          failures.push(`round ${round} ${role} ${chunking.name}`)
        }
      }
    }
  }
  t.same(failures, [], `${checked} parses give back the frames`)
})

t.test('round trip through the independent decoder, masked and not', async (t) => {
  const random = seededRandom(77)
  const failures: string[] = []
  for (let i = 0; i < 200; i++) {
    const length = randomInt(random, 0, 70000)
    const payload = randomBytes(random, length)
    const maskKey = random() < 0.5 ? randomBytes(random, 4) : undefined
    const decoded = decodeFrame(Buffer.concat(encodeFrame(OP.BINARY, payload, { maskKey })))
    const minimal = length < 126 ? 0 : length < 65536 ? 2 : 8
    if (!decoded.payload.equals(payload)) failures.push(`length ${length}: payload`)
    if (decoded.masked !== (maskKey !== undefined)) failures.push(`length ${length}: mask bit`)
    if (maskKey !== undefined && !decoded.maskKey!.equals(maskKey)) failures.push(`length ${length}: mask key`)
    if (decoded.lengthBytes !== minimal) failures.push(`length ${length}: ${decoded.lengthBytes} length bytes`)
  }
  t.same(failures, [], '200 random frames decode to their payload, with minimal lengths')
  t.same(xorMask(Buffer.from('Hello'), MASK).toString('hex'), '7f9f4d5158', 'sanity: the reference XOR')
})
