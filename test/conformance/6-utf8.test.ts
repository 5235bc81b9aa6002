/**
 * Autobahn testsuite case group 6, cases 6.1-6.4 (UTF-8 handling of whole and fragmented
 * text) against the echo app. Text is validated as it arrives (RFC 6455 §8.1): a text message
 * is failed with 1007 as soon as its bytes cannot be UTF-8, in a first or middle fragment or
 * in a chunk of one frame, before the rest has been sent. The rest is never sent here, so
 * only a streaming validator passes.
 */
import t from 'tap'
import { FuzzPeer, expectText, startEchoServer } from '../helpers/conformance.js'
import { OP, clientFrame, hex } from '../helpers/frames.js'

const port = await startEchoServer(t)

t.test('6.1.1 text message of length 0 is echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, ''))
  await peer.expectFrames([expectText('')])
  await peer.closeNormally()
})

t.test('6.1.2 text message in 3 empty fragments is echoed as an empty text', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, '', { fin: false }), clientFrame(OP.CONT, '', { fin: false }), clientFrame(OP.CONT, ''))
  await peer.expectFrames([expectText('')])
  await peer.closeNormally()
})

t.test('6.1.3 text message in 3 fragments, first and last empty, is echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, '', { fin: false }), clientFrame(OP.CONT, 'middle frame payload', { fin: false }), clientFrame(OP.CONT, ''))
  await peer.expectFrames([expectText('middle frame payload')])
  await peer.closeNormally()
})

const HELLO = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8')
const KOSME = hex('cebae1bdb9cf83cebcceb5') // κόσμε

function octetFragments (data: Buffer): Buffer[] {
  return [...data].map((byte, i) => clientFrame(i === 0 ? OP.TEXT : OP.CONT, Buffer.from([byte]), { fin: i === data.length - 1 }))
}

t.test('6.2.1 valid UTF-8 text with multi-byte characters in one fragment is echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, HELLO))
  await peer.expectFrames([expectText(HELLO)])
  await peer.closeNormally()
})

t.test('6.2.2 valid UTF-8 text in 2 fragments split at a code point boundary is echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const cut = Buffer.from('Hello-µ@ßöä', 'utf8').length
  peer.send(clientFrame(OP.TEXT, HELLO.subarray(0, cut), { fin: false }), clientFrame(OP.CONT, HELLO.subarray(cut)))
  await peer.expectFrames([expectText(HELLO)])
  await peer.closeNormally()
})

t.test('6.2.3 valid UTF-8 text in 1-octet fragments (splitting code points) is echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(...octetFragments(HELLO))
  await peer.expectFrames([expectText(HELLO)])
  await peer.closeNormally()
})

t.test("6.2.4 valid UTF-8 text 'κόσμε' in 1-octet fragments is echoed", async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(...octetFragments(KOSME))
  await peer.expectFrames([expectText(KOSME)])
  await peer.closeNormally()
})

const KOSME_EDITED = hex('cebae1bdb9cf83cebcceb5 eda080 656469746564') // κόσμε, a surrogate, "edited"

t.test('6.3.1 invalid UTF-8 text (a surrogate) in one fragment fails with 1007, nothing echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, KOSME_EDITED))
  await peer.expectFailure(1007)
})

t.test('6.3.2 invalid UTF-8 text in 1-octet fragments fails with 1007, nothing echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(...octetFragments(KOSME_EDITED))
  await peer.expectFailure(1007)
})

t.test('6.3.2 fail fast: 1-octet fragments fail with 1007 at the first impossible byte, before the rest is sent', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const fragments = octetFragments(KOSME_EDITED)
  const bad = KOSME.length + 1 // ED is still a valid prefix; ED A0 is a surrogate
  peer.send(...fragments.slice(0, bad))
  await peer.expectSilence(100, 'the valid prefix (up to ED) is accepted')
  peer.send(fragments[bad])
  await peer.expectFailure(1007)
})

// 6.4.x: κόσμε, then U+110000 (F4 90 80 80, invalid at its second byte), then "edited".
const PART1_A = KOSME
const PART2_A = hex('f4908080')
const PART3_A = hex('656469746564')
// 6.4.2 / 6.4.4: the invalid sequence is cut after its lead byte.
const PART1_B = hex('cebae1bdb9cf83cebcceb5f4')
const PART2_B = hex('90')
const PART3_B = hex('8080656469746564')

/** Waits this long after the first part, as the suite does (it waits 1 s), to show it was accepted. */
const ACCEPTED = 150

for (const [id, part1, part2] of [['6.4.1', PART1_A, PART2_A], ['6.4.2', PART1_B, PART2_B]] as Array<[string, Buffer, Buffer]>) {
  t.test(`${id} fail fast: valid first fragment accepted, invalid second fragment closes with 1007 before the third is sent`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    peer.send(clientFrame(OP.TEXT, part1, { fin: false }))
    await peer.expectSilence(ACCEPTED, 'first fragment accepted: the connection stays open')
    peer.send(clientFrame(OP.CONT, part2, { fin: false }))
    // The third fragment is withheld: only fail-fast validation can close now.
    await peer.expectFailure(1007)
  })
}

for (const [id, part1, part2, part3] of [['6.4.3', PART1_A, PART2_A, PART3_A], ['6.4.4', PART1_B, PART2_B, PART3_B]] as Array<[string, Buffer, Buffer, Buffer]>) {
  t.test(`${id} fail fast: one frame in 3 chops, the invalid second chop closes with 1007 before the third is sent`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    const whole = clientFrame(OP.TEXT, Buffer.concat([part1, part2, part3]))
    const header = whole.length - part1.length - part2.length - part3.length
    peer.send(whole.subarray(0, header + part1.length))
    await peer.expectSilence(ACCEPTED, 'first chop accepted: the connection stays open')
    peer.send(whole.subarray(header + part1.length, header + part1.length + part2.length))
    await peer.expectFailure(1007)
  })
}

t.test('6.4.x fail fast: invalid bytes in the first fragment close with 1007 before any other fragment', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, Buffer.concat([hex('68656c6c6f'), hex('c328')]), { fin: false }))
  await peer.expectFailure(1007)
})

t.test('6.4.x fail fast: invalid lead byte alone in the first fragment closes with 1007', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, hex('ff'), { fin: false }))
  await peer.expectFailure(1007)
})

t.test('6.4.x fail fast: invalid bytes in a middle fragment of many close with 1007 before the rest', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const valid = Array.from({ length: 10 }, (_, i) => clientFrame(i === 0 ? OP.TEXT : OP.CONT, 'κόσμε', { fin: false }))
  peer.send(...valid)
  await peer.expectSilence(ACCEPTED, 'ten valid fragments accepted')
  peer.send(clientFrame(OP.CONT, hex('eda080'), { fin: false }))
  await peer.expectFailure(1007)
})

t.test('6.4.x fail fast: invalid bytes in the first chop of one frame close with 1007 before the rest of the frame', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payload = Buffer.concat([hex('c0af'), Buffer.alloc(1000, 0x61)])
  const whole = clientFrame(OP.TEXT, payload)
  const header = whole.length - payload.length
  peer.send(whole.subarray(0, header + 2))
  await peer.expectFailure(1007)
})

t.test('6.4.x fail fast: a sequence cut across fragments is checked across the cut (F0 | 28 closes with 1007)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, hex('61f0'), { fin: false }))
  await peer.expectSilence(ACCEPTED, 'a lead byte at the end of a fragment is a valid prefix')
  peer.send(clientFrame(OP.CONT, hex('28'), { fin: false }))
  await peer.expectFailure(1007)
})

t.test('6.4.x a sequence cut across fragments is joined (F0 9F | 98 | 80 is U+1F600)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, hex('f09f'), { fin: false }), clientFrame(OP.CONT, hex('98'), { fin: false }), clientFrame(OP.CONT, hex('80')))
  await peer.expectFrames([expectText('😀')])
  await peer.closeNormally()
})

t.test('6.4.x a message ending inside a sequence fails with 1007 at its last fragment', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, hex('61e282'), { fin: false }))
  await peer.expectSilence(ACCEPTED, 'an incomplete sequence is still a valid prefix')
  peer.send(clientFrame(OP.CONT, ''))
  await peer.expectFailure(1007)
})

t.test('6.x code points at the boundaries (U+007F, U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF) are valid, whole and in 1-octet fragments', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const text = hex('7f c280 dfbf e0a080 efbfbf f0908080 f48fbfbf')
  t.equal(text.toString('utf8'), '\u007f\u0080\u07ff\u0800\uffff\u{10000}\u{10ffff}', 'the bytes are those code points')
  peer.send(clientFrame(OP.TEXT, text), ...octetFragments(text))
  await peer.expectFrames([expectText(text), expectText(text)])
  await peer.closeNormally()
})

t.test('6.x noncharacters U+FFFE and U+FFFF are valid UTF-8', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, hex('efbfbe')), clientFrame(OP.TEXT, hex('efbfbf')))
  await peer.expectFrames([expectText(hex('efbfbe')), expectText(hex('efbfbf'))])
  await peer.closeNormally()
})

for (const [what, bytes] of [
  ['U+110000 (F4 90 80 80)', 'f4908080'],
  ['the first surrogate U+D800 (ED A0 80)', 'eda080'],
  ['the last surrogate U+DFFF (ED BF BF)', 'edbfbf'],
  ['an overlong U+002F (C0 AF)', 'c0af'],
  ['an overlong U+07FF (E0 9F BF)', 'e09fbf'],
  ['an overlong U+FFFF (F0 8F BF BF)', 'f08fbfbf']
]) {
  t.test(`6.x ${what} is invalid: 1007`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    peer.send(clientFrame(OP.TEXT, Buffer.concat([hex('61'), hex(bytes), hex('62')])))
    await peer.expectFailure(1007)
  })
}

t.test('6.x binary messages are not checked for UTF-8', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.BINARY, KOSME_EDITED))
  await peer.expectFrames([{ opcode: OP.BINARY, payload: KOSME_EDITED }])
  await peer.closeNormally()
})
