// WebSocketProtocol in the client role: it reads unmasked frames, fails on masked ones, and
// masks every frame it writes with the key its maskKeySource gives.
import t from 'tap'
import { OP, clientFrame, closeBody, decodeFrame, hex, serverFrame, xorMask } from '../helpers/frames.js'
import { ev, failure, checkAllChunkings, countingMaskSource, createProtocol, recorder, runChunks } from '../helpers/protocol-recorder.js'
import { utf8Text } from '../helpers/payloads.js'
import { randomBytes, seededRandom } from '../helpers/seeded-random.js'
import { ProtocolErrorCode as E, WebSocketProtocol } from '../../src/protocol/index.js'

const client = { role: 'client' as const }
const random = seededRandom(13)

t.test('unmasked server data frames of every length class', async (t) => {
  for (const length of [0, 1, 125, 126, 127, 65535, 65536]) {
    const text = utf8Text(length)
    t.test(`text of ${length}`, async (t) => { checkAllChunkings(t, serverFrame(OP.TEXT, text), [ev.text(text)], client) })
    const binary = randomBytes(random, length)
    t.test(`binary of ${length}`, async (t) => { checkAllChunkings(t, serverFrame(OP.BINARY, binary), [ev.binary(binary)], client) })
  }
})

t.test('fragmented server message with an interleaved ping: the pong is masked', async (t) => {
  const input = Buffer.concat([serverFrame(OP.TEXT, 'ab', { fin: false }), serverFrame(OP.PING, 'p'), serverFrame(OP.CONT, 'cd')])
  const run = checkAllChunkings(t, input, [ev.wrotePong('p', true), ev.ping('p'), ev.text('abcd')], client)
  // First key from the counting source is 01 02 03 04.
  t.same(run.written, [Buffer.concat([hex('8a 81 01020304'), xorMask(Buffer.from('p'), hex('01020304'))]).toString('hex')])
})

t.test('close echo is masked', async (t) => {
  const run = checkAllChunkings(t, serverFrame(OP.CLOSE, closeBody(1000, 'bye')), [ev.wroteClose(1000, true), ev.close(1000, 'bye')], client)
  // 03 E8 XOR 01 02 = 02 EA.
  t.same(run.written, ['888201020304' + '02ea'])
  const empty = checkAllChunkings(t, serverFrame(OP.CLOSE), [ev.wroteClose(undefined, true), ev.close(1005)], client)
  t.same(empty.written, ['888001020304'])
})

t.test('a masked server frame fails with 1002, and the close frame is masked', async (t) => {
  for (const opcode of [OP.TEXT, OP.BINARY, OP.PING, OP.CLOSE]) {
    const input = clientFrame(opcode, opcode === OP.CLOSE ? closeBody(1000) : 'x')
    checkAllChunkings(t, input, failure(E.UnexpectedMask, 1002, true), client)
  }
  const zeroMask = clientFrame(OP.TEXT, 'x', { mask: [0, 0, 0, 0] })
  checkAllChunkings(t, zeroMask, failure(E.UnexpectedMask, 1002, true), client)
})

t.test('client-side framing errors', async (t) => {
  checkAllChunkings(t, serverFrame(OP.TEXT, 'x', { rsv1: true }), failure(E.UnexpectedRsv1, 1002, true), client)
  checkAllChunkings(t, serverFrame(0x3), failure(E.InvalidOpcode, 1002, true), client)
  checkAllChunkings(t, serverFrame(OP.CONT, 'x'), failure(E.InvalidOpcode, 1002, true), client)
  checkAllChunkings(t, serverFrame(OP.TEXT, [0xff]), failure(E.InvalidUtf8, 1007, true), client)
  checkAllChunkings(t, serverFrame(OP.PING, Buffer.alloc(126)), failure(E.InvalidControlPayloadLength, 1002, true), client)
  checkAllChunkings(t, serverFrame(OP.BINARY, 'abc'), failure(E.MessageTooBig, 1009, true), { role: 'client', maxMessageSize: 2 })
})

t.test('frames the client writes are masked with the source key and unmask to the payload', async (t) => {
  const { protocol, writes, written } = createProtocol(client)
  const big = randomBytes(random, 70000)
  const bigCopy = Buffer.from(big)
  protocol.send('hello', false)
  protocol.send(big, true)
  protocol.ping(Buffer.from('pi'))
  protocol.pong(Buffer.from('po'))
  protocol.send('frag', false, false)
  protocol.send(Buffer.from('ment'), true)
  protocol.close(1000, 'done')

  t.same(big, bigCopy, "the caller's buffer is not changed by masking")
  const expected: Array<[number, boolean, Buffer]> = [
    [OP.TEXT, true, Buffer.from('hello')],
    [OP.BINARY, true, bigCopy],
    [OP.PING, true, Buffer.from('pi')],
    [OP.PONG, true, Buffer.from('po')],
    [OP.TEXT, false, Buffer.from('frag')],
    [OP.CONT, true, Buffer.from('ment')],
    [OP.CLOSE, true, closeBody(1000, 'done')]
  ]
  t.equal(written.length, expected.length, 'one frame per command')
  t.equal(writes.length, expected.length, 'masked frames are written as one chunk each, even large ones')
  const keys = countingMaskSource()
  expected.forEach(([opcode, fin, payload], i) => {
    const frame = decodeFrame(Buffer.from(written[i], 'hex'))
    t.equal(frame.opcode, opcode, `frame ${i} opcode`)
    t.equal(frame.fin, fin, `frame ${i} fin`)
    t.equal(frame.masked, true, `frame ${i} is masked`)
    t.same(frame.maskKey, Buffer.from(keys()), `frame ${i} uses the next key from the source`)
    t.ok(frame.payload.equals(payload), `frame ${i} unmasks to the payload`)
  })
})

t.test('without a maskKeySource the client masks with random keys', async (t) => {
  const { output, written } = recorder()
  const protocol = new WebSocketProtocol(output, { role: 'client' })
  const payload = Buffer.alloc(64, 0x41)
  for (let i = 0; i < 8; i++) protocol.send(payload, true)
  const keys = new Set<string>()
  for (const hexFrame of written) {
    const frame = decodeFrame(Buffer.from(hexFrame, 'hex'))
    t.equal(frame.masked, true)
    t.ok(frame.payload.equals(payload), 'unmasks to the payload')
    keys.add(frame.maskKey!.toString('hex'))
  }
  t.ok(keys.size > 1, 'keys vary from frame to frame')
})

t.test('a server never masks, even with a maskKeySource', async (t) => {
  const run = runChunks({ role: 'server' }, [])
  run.protocol.send('x', false)
  t.same(run.written, ['810178'])
})
