/**
 * Autobahn testsuite case group 7 (close handling) against the echo app. A close frame is
 * answered with a close frame echoing its code (RFC 6455 §5.5.1), nothing after it is
 * processed, the server closes TCP first (§7.1.1), and a close frame that is malformed
 * (1 byte, over 125 bytes, a code that may not be sent, a reason that is not UTF-8) fails
 * the connection with 1002 or 1007 (§7.4.1, §8.1).
 */
import t from 'tap'
import { FuzzPeer, expectBinary, expectText, startEchoServer } from '../helpers/conformance.js'
import { repeated } from '../helpers/payloads.js'
import { OP, closeFrame, closeBody, clientFrame, hex } from '../helpers/frames.js'

const port = await startEchoServer(t)

t.test('7.1.1 text message, then close: echo, then the close echoed, then TCP closed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 'Hello World!'), closeFrame(1000))
  await peer.expectFrames([expectText('Hello World!')])
  await peer.expectCloseEcho(1000)
})

t.test('7.1.2 close twice: one close echoed, the second ignored, TCP closed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(closeFrame(1000), closeFrame(1000))
  await peer.expectCloseEcho(1000)
})

t.test('7.1.3 close, then ping: close echoed, no pong', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(closeFrame(1000), clientFrame(OP.PING, 'Hello World!'))
  await peer.expectCloseEcho(1000)
})

t.test('7.1.4 close, then text: close echoed, nothing echoed after it', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(closeFrame(1000), clientFrame(OP.TEXT, 'Hello World!'))
  await peer.expectCloseEcho(1000)
})

t.test('7.1.5 text fragment, close, last fragment: close echoed, the message never echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 'fragment1', { fin: false }), closeFrame(1000), clientFrame(OP.CONT, 'fragment2'))
  await peer.expectCloseEcho(1000)
})

t.test('7.1.6 256 KiB text, small text, close, ping: both echoed in order, then the close, no pong', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const big = repeated('BAsd7&jh23', 256 * 1024)
  peer.send(clientFrame(OP.TEXT, big), clientFrame(OP.TEXT, 'Hello World!'), closeFrame(1000), clientFrame(OP.PING))
  await peer.expectFrames([expectText(big), expectText('Hello World!')], 10000)
  await peer.expectCloseEcho(1000)
})

t.test('7.1.x close, then a close with an invalid code: the second is not processed (close 1000 echoed)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(closeFrame(1000), closeFrame(999), clientFrame(0x3))
  await peer.expectCloseEcho(1000)
})

t.test('7.1.x binary message, then close: echo, then the close echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.BINARY, Buffer.from([0, 1, 2])), closeFrame(1001))
  await peer.expectFrames([expectBinary(Buffer.from([0, 1, 2]))])
  await peer.expectCloseEcho(1001)
})

t.test('7.3.1 close with payload length 0: an empty close echoed, TCP closed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(closeFrame())
  await peer.expectCloseEcho(undefined)
})

t.test('7.3.2 close with payload length 1 fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.CLOSE, 'a'))
  await peer.expectFailure(1002)
})

t.test('7.3.3 close with code 1000 only: 1000 echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(closeFrame(1000))
  await peer.expectCloseEcho(1000)
})

t.test('7.3.4 close with code 1000 and a reason: 1000 echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(closeFrame(1000, 'Hello World!'))
  await peer.expectCloseEcho(1000)
})

t.test('7.3.5 close with a 123-byte reason (payload 125): 1000 echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(closeFrame(1000, repeated('*', 123)))
  await peer.expectCloseEcho(1000)
})

t.test('7.3.6 close with a 124-byte reason (payload 126) fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.CLOSE, closeBody(1000, repeated('*', 124))))
  await peer.expectFailure(1002)
})

t.test('7.5.1 close with an invalid UTF-8 reason fails with 1007', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.CLOSE, closeBody(1000, hex('cebae1bdb9cf83cebcceb5eda080656469746564'))))
  await peer.expectFailure(1007)
})

t.test('7.5.x close with a reason cut inside a multi-byte sequence fails with 1007', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.CLOSE, closeBody(1000, hex('cebae1bd'))))
  await peer.expectFailure(1007)
})

t.test('7.5.x close with a valid multi-byte UTF-8 reason: 1000 echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(closeFrame(1000, 'κόσμε 😀'))
  await peer.expectCloseEcho(1000)
})

const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]

for (const [index, code] of VALID_CODES.entries()) {
  t.test(`7.7.${index + 1} close with valid code ${code}: the same code echoed, TCP closed`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    peer.send(closeFrame(code))
    await peer.expectCloseEcho(code)
  })
}

// 1012-1014 were registered with IANA after RFC 6455 (service restart, try again later, bad gateway).
for (const code of [1012, 1013, 1014]) {
  t.test(`7.7.x close with IANA-registered code ${code}: the same code echoed`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    peer.send(closeFrame(code))
    await peer.expectCloseEcho(code)
  })
}

const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999]

for (const [index, code] of INVALID_CODES.entries()) {
  t.test(`7.9.${index + 1} close with invalid code ${code} fails with 1002`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    peer.send(closeFrame(code))
    await peer.expectFailure(1002)
  })
}

t.test('7.9.x close with code 1015 (reserved, never sent on the wire) fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(closeFrame(1015))
  await peer.expectFailure(1002)
})

for (const [id, code] of [['7.13.1', 5000], ['7.13.2', 65535]] as Array<[string, number]>) {
  t.test(`${id} close with code ${code} (out of range) fails with 1002`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    peer.send(closeFrame(code))
    await peer.expectFailure(1002)
  })
}

t.test('7.x after the closing handshake the server closes TCP even if the client keeps its side open', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  // allowHalfOpen on our side: we never send FIN; the server's FIN must still arrive.
  peer.client.socket.allowHalfOpen = true
  peer.send(closeFrame(1000))
  const f = await peer.client.readFrame()
  t.equal(f.opcode, OP.CLOSE, 'close echoed')
  await peer.client.waitEnded()
  t.pass('server FIN arrived while our side was still open')
})
