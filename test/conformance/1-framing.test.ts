/**
 * Autobahn testsuite case group 1 (framing), reproduced in process against the echo app of
 * example-app/echo.js: text and binary messages at every length-encoding boundary, echoed
 * exactly, then a clean closing handshake. RFC 6455 §5.2 (length encodings), §5.6.
 */
import t from 'tap'
import { FuzzPeer, expectBinary, expectText, startEchoServer } from '../helpers/conformance.js'
import { repeated } from '../helpers/payloads.js'
import { OP, clientFrame } from '../helpers/frames.js'

const port = await startEchoServer(t)

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536]

for (const [index, length] of LENGTHS.entries()) {
  t.test(`1.1.${index + 1} text message with payload length ${length}`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    const payload = repeated('*', length)
    peer.send(clientFrame(OP.TEXT, payload))
    await peer.expectFrames([expectText(payload)])
    await peer.closeNormally()
  })
}

t.test('1.1.8 text message with payload length 65536, written in chops of 997 octets', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payload = repeated('*', 65536)
  await peer.sendChopped(clientFrame(OP.TEXT, payload), 997)
  await peer.expectFrames([expectText(payload)])
  await peer.closeNormally()
})

for (const [index, length] of LENGTHS.entries()) {
  t.test(`1.2.${index + 1} binary message with payload length ${length}`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    const payload = repeated(Buffer.from([0xfe]), length)
    peer.send(clientFrame(OP.BINARY, payload))
    await peer.expectFrames([expectBinary(payload)])
    await peer.closeNormally()
  })
}

t.test('1.2.8 binary message with payload length 65536, written in chops of 997 octets', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payload = repeated(Buffer.from([0xfe]), 65536)
  await peer.sendChopped(clientFrame(OP.BINARY, payload), 997)
  await peer.expectFrames([expectBinary(payload)])
  await peer.closeNormally()
})

t.test('1.x binary payload of every byte value, every length encoding, echoed byte for byte', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const unit = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  const payloads = [repeated(unit, 125), repeated(unit, 126), repeated(unit, 65536 + 3)]
  peer.send(...payloads.map((p) => clientFrame(OP.BINARY, p)))
  await peer.expectFrames(payloads.map((p) => expectBinary(p)))
  await peer.closeNormally()
})

t.test('1.x non-minimal length encodings are accepted (RFC 6455 §5.2 binds senders only)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(
    clientFrame(OP.TEXT, 'sixteen', { lengthEncoding: 16 }),
    clientFrame(OP.BINARY, Buffer.from([1, 2, 3]), { lengthEncoding: 64 })
  )
  await peer.expectFrames([expectText('sixteen'), expectBinary(Buffer.from([1, 2, 3]))])
  await peer.closeNormally()
})

t.test('1.x server echoes use the minimal length encoding', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payloads = [125, 126, 65535, 65536].map((n) => repeated('x', n))
  peer.send(...payloads.map((p) => clientFrame(OP.TEXT, p)))
  const frames = await peer.expectFrames(payloads.map((p) => expectText(p)))
  t.same(frames.map((f) => f.headerLength), [2, 4, 4, 10], 'header sizes 2, 4, 4, 10 bytes')
  await peer.closeNormally()
})

// Chops of the whole stream (every boundary inside the header and payload) for a few sizes.
for (const size of [1, 2, 3, 7]) {
  t.test(`1.x text message of 200 bytes written in chops of ${size} octets`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    const payload = repeated('ab€', 200)
    await peer.sendChopped(clientFrame(OP.TEXT, payload), size)
    await peer.expectFrames([expectText(payload)])
    await peer.closeNormally()
  })
}
