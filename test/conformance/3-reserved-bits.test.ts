/**
 * Autobahn testsuite case group 3 (reserved bits) against the echo app. No extension is
 * negotiated, so any RSV bit fails the connection with 1002 (RFC 6455 §5.2), whatever the
 * opcode, and nothing that follows the bad frame is processed: no echo, no pong.
 * The suite's RSV number is the 3-bit field: 4 = RSV1, 2 = RSV2, 1 = RSV3.
 */
import t from 'tap'
import { FuzzPeer, expectText, startEchoServer } from '../helpers/conformance.js'
import { OP, closeBody, clientFrame, rsvFlags } from '../helpers/frames.js'

const port = await startEchoServer(t)

t.test('3.1 text message with RSV = 1 fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 'Hello, world!', rsvFlags(1)))
  await peer.expectFailure(1002)
})

t.test('3.2 text, then text with RSV = 2, then ping: first echoed, then 1002, no pong', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 'Hello, world!'), clientFrame(OP.TEXT, 'Hello, world!', rsvFlags(2)), clientFrame(OP.PING, 'Hello, world!'))
  await peer.expectFrames([expectText('Hello, world!')])
  await peer.expectFailure(1002)
})

t.test('3.3 text, then text with RSV = 3, then ping, frame by frame: first echoed, then 1002, no pong', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  await peer.sendFrames([clientFrame(OP.TEXT, 'Hello, world!')])
  await peer.expectFrames([expectText('Hello, world!')])
  // The connection may already be closed when the ping goes out; that is the point.
  await peer.sendFrames([clientFrame(OP.TEXT, 'Hello, world!', rsvFlags(3)), clientFrame(OP.PING, 'Hello, world!')])
  await peer.expectFailure(1002)
})

t.test('3.4 text, then text with RSV = 4, then ping, octet by octet: first echoed, then 1002, no pong', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  await peer.sendChopped(clientFrame(OP.TEXT, 'Hello, world!'), 1)
  await peer.expectFrames([expectText('Hello, world!')])
  // Written on octet by octet; the server fails at the first header byte and discards the rest.
  await peer.sendChopped(Buffer.concat([clientFrame(OP.TEXT, 'Hello, world!', rsvFlags(4)), clientFrame(OP.PING, 'Hello, world!')]), 1)
  await peer.expectFailure(1002)
})

t.test('3.5 binary message with RSV = 5 fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.BINARY, Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]), rsvFlags(5)))
  await peer.expectFailure(1002)
})

t.test('3.6 ping with RSV = 6 fails with 1002 and is not answered', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.PING, Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]), rsvFlags(6)))
  await peer.expectFailure(1002)
})

t.test('3.7 close with RSV = 7 fails with 1002 (not echoed as a normal close)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.CLOSE, closeBody(1000), rsvFlags(7)))
  await peer.expectFailure(1002)
})

// Every RSV combination on every kind of frame, each after a valid message that must be echoed.
const KINDS: Array<[string, (rsv: number) => Buffer[]]> = [
  ['text', (rsv) => [clientFrame(OP.TEXT, 'x', rsvFlags(rsv))]],
  ['binary', (rsv) => [clientFrame(OP.BINARY, Buffer.from([1]), rsvFlags(rsv))]],
  ['ping', (rsv) => [clientFrame(OP.PING, 'p', rsvFlags(rsv))]],
  ['pong', (rsv) => [clientFrame(OP.PONG, 'p', rsvFlags(rsv))]],
  ['close', (rsv) => [clientFrame(OP.CLOSE, closeBody(1000), rsvFlags(rsv))]],
  ['continuation', (rsv) => [clientFrame(OP.TEXT, 'a', { fin: false }), clientFrame(OP.CONT, 'b', rsvFlags(rsv))]]
]

for (const [kind, build] of KINDS) {
  for (let rsv = 1; rsv <= 7; rsv++) {
    t.test(`3.x RSV = ${rsv} on a ${kind} frame after a valid message fails with 1002, nothing processed after`, async (t) => {
      const peer = await FuzzPeer.open(t, port)
      peer.send(clientFrame(OP.TEXT, 'before'), ...build(rsv), clientFrame(OP.TEXT, 'after'), clientFrame(OP.PING, 'after'))
      await peer.expectFrames([expectText('before')])
      await peer.expectFailure(1002)
    })
  }
}
