/**
 * Autobahn testsuite case group 2 (pings and pongs) against the echo app: every ping is
 * answered with a pong carrying its exact payload (RFC 6455 §5.5.2, §5.5.3), unsolicited pongs
 * are ignored, a ping over 125 bytes fails the connection with 1002 (§5.5).
 */
import t from 'tap'
import { FuzzPeer, expectPong, startEchoServer } from '../helpers/conformance.js'
import { repeated } from '../helpers/payloads.js'
import { OP, clientFrame } from '../helpers/frames.js'

const port = await startEchoServer(t)

t.test('2.1 ping without payload is answered with a pong without payload', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.PING))
  await peer.expectFrames([expectPong('')])
  await peer.closeNormally()
})

t.test('2.2 ping with a small text payload is answered with the same payload', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.PING, 'Hello, world!'))
  await peer.expectFrames([expectPong('Hello, world!')])
  await peer.closeNormally()
})

t.test('2.3 ping with a small binary (non UTF-8) payload is answered with the same payload', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payload = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])
  peer.send(clientFrame(OP.PING, payload))
  await peer.expectFrames([expectPong(payload)])
  await peer.closeNormally()
})

t.test('2.4 ping with a 125-byte binary payload is answered with the same payload', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payload = repeated(Buffer.from([0xfe]), 125)
  peer.send(clientFrame(OP.PING, payload))
  await peer.expectFrames([expectPong(payload)])
  await peer.closeNormally()
})

t.test('2.5 ping with a 126-byte payload fails the connection with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.PING, repeated(Buffer.from([0xfe]), 126)))
  await peer.expectFailure(1002)
})

t.test('2.5 extra: ping announcing a 126-byte payload fails with 1002 from the header alone', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  // Header only (16-bit length 126, mask key): the limit is decided before any payload.
  peer.send(clientFrame(OP.PING, repeated(Buffer.from([0xfe]), 126)).subarray(0, 8))
  await peer.expectFailure(1002)
})

t.test('2.6 ping with a 125-byte payload written octet by octet is answered', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payload = repeated(Buffer.from([0xfe]), 125)
  await peer.sendChopped(clientFrame(OP.PING, payload), 1, 1)
  await peer.expectFrames([expectPong(payload)])
  await peer.closeNormally()
})

t.test('2.7 unsolicited pong without payload is ignored', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.PONG))
  await peer.expectSilence()
  await peer.closeNormally()
})

t.test('2.8 unsolicited pong with payload is ignored', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.PONG, 'unsolicited pong payload'))
  await peer.expectSilence()
  await peer.closeNormally()
})

t.test('2.9 unsolicited pong then a ping: only the ping is answered', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.PONG, 'unsolicited pong payload'), clientFrame(OP.PING, 'ping payload'))
  await peer.expectFrames([expectPong('ping payload')])
  await peer.closeNormally()
})

const TEN = Array.from({ length: 10 }, (_, i) => `payload-${i}`)

t.test('2.10 ten pings in a row are each answered, in order', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(...TEN.map((p) => clientFrame(OP.PING, p)))
  await peer.expectFrames(TEN.map((p) => expectPong(p)))
  await peer.closeNormally()
})

t.test('2.11 ten pings in a row, written octet by octet with pauses, are each answered in order', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  for (const p of TEN) await peer.sendChopped(clientFrame(OP.PING, p), 1, 1)
  await peer.expectFrames(TEN.map((p) => expectPong(p)))
  await peer.closeNormally()
})

t.test('2.x a ping between two messages is answered between their echoes', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 'one'), clientFrame(OP.PING, 'between'), clientFrame(OP.BINARY, Buffer.from('two')))
  await peer.expectFrames([
    { opcode: OP.TEXT, payload: 'one' },
    expectPong('between'),
    { opcode: OP.BINARY, payload: 'two' }
  ])
  await peer.closeNormally()
})
