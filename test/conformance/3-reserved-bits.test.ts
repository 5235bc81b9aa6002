/**
 * Autobahn testsuite case group 3 (reserved bits) against the echo app. No extension is
 * negotiated, so any RSV bit fails the connection with 1002 (RFC 6455 §5.2), whatever the
 * opcode, and nothing that follows the bad frame is processed: no echo, no pong.
 * The suite's RSV number is the 3-bit field: 4 = RSV1, 2 = RSV2, 1 = RSV3.
 */
import t from 'tap'
import { FuzzPeer, OP, closePayload, expectText, frame, startEchoServer } from '../helpers/conformance.js'

const port = await startEchoServer(t)

t.test('3.1 text message with RSV = 1 fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(frame(OP.TEXT, 'Hello, world!', { rsv: 1 }))
  await peer.expectFailure(1002)
})

t.test('3.2 text, then text with RSV = 2, then ping: first echoed, then 1002, no pong', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(frame(OP.TEXT, 'Hello, world!'), frame(OP.TEXT, 'Hello, world!', { rsv: 2 }), frame(OP.PING, 'Hello, world!'))
  await peer.expectFrames([expectText('Hello, world!')])
  await peer.expectFailure(1002)
})

t.test('3.3 text, then text with RSV = 3, then ping, frame by frame: first echoed, then 1002, no pong', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  await peer.sendFrames([frame(OP.TEXT, 'Hello, world!')])
  await peer.expectFrames([expectText('Hello, world!')])
  // The connection may already be closed when the ping goes out; that is the point.
  await peer.sendFrames([frame(OP.TEXT, 'Hello, world!', { rsv: 3 }), frame(OP.PING, 'Hello, world!')])
  await peer.expectFailure(1002)
})

t.test('3.4 text, then text with RSV = 4, then ping, octet by octet: first echoed, then 1002, no pong', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  await peer.sendChopped(frame(OP.TEXT, 'Hello, world!'), 1)
  await peer.expectFrames([expectText('Hello, world!')])
  // Written on octet by octet; the server fails at the first header byte and discards the rest.
  await peer.sendChopped(Buffer.concat([frame(OP.TEXT, 'Hello, world!', { rsv: 4 }), frame(OP.PING, 'Hello, world!')]), 1)
  await peer.expectFailure(1002)
})

t.test('3.5 binary message with RSV = 5 fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(frame(OP.BINARY, Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]), { rsv: 5 }))
  await peer.expectFailure(1002)
})

t.test('3.6 ping with RSV = 6 fails with 1002 and is not answered', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(frame(OP.PING, Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]), { rsv: 6 }))
  await peer.expectFailure(1002)
})

t.test('3.7 close with RSV = 7 fails with 1002 (not echoed as a normal close)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(frame(OP.CLOSE, closePayload(1000), { rsv: 7 }))
  await peer.expectFailure(1002)
})

// Every RSV combination on every kind of frame, each after a valid message that must be echoed.
const KINDS: Array<[string, (rsv: number) => Buffer[]]> = [
  ['text', (rsv) => [frame(OP.TEXT, 'x', { rsv })]],
  ['binary', (rsv) => [frame(OP.BINARY, Buffer.from([1]), { rsv })]],
  ['ping', (rsv) => [frame(OP.PING, 'p', { rsv })]],
  ['pong', (rsv) => [frame(OP.PONG, 'p', { rsv })]],
  ['close', (rsv) => [frame(OP.CLOSE, closePayload(1000), { rsv })]],
  ['continuation', (rsv) => [frame(OP.TEXT, 'a', { fin: false }), frame(OP.CONT, 'b', { rsv })]]
]

for (const [kind, build] of KINDS) {
  for (let rsv = 1; rsv <= 7; rsv++) {
    t.test(`3.x RSV = ${rsv} on a ${kind} frame after a valid message fails with 1002, nothing processed after`, async (t) => {
      const peer = await FuzzPeer.open(t, port)
      peer.send(frame(OP.TEXT, 'before'), ...build(rsv), frame(OP.TEXT, 'after'), frame(OP.PING, 'after'))
      await peer.expectFrames([expectText('before')])
      await peer.expectFailure(1002)
    })
  }
}
