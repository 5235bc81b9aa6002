/**
 * RFC 6455 §5 (framing), §6 (sending and receiving data) and §10.4 (limits), server side,
 * for the requirements the Autobahn groups do not already prove: masking rules, length
 * fields, what the server sends (opcodes, FIN, fragments, control frame sizes, valid UTF-8),
 * and limits decided from the header before any payload. Against the echo app of
 * example-app/echo.js, or a small app when the server has to send something of its own.
 */
import { isUtf8 } from 'node:buffer'
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { ECHO_MAX_MESSAGE_SIZE, FuzzPeer, expectBinary, expectPong, expectText, startEchoServer } from '../helpers/conformance.js'
import { repeated } from '../helpers/payloads.js'
import { OP, closeFrame, clientFrame, serverFrame } from '../helpers/frames.js'
import { RawClient } from '../helpers/raw-client.js'

const port = await startEchoServer(t)

t.test('5.1 an unmasked client frame fails the connection with 1002 and nothing is echoed', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(serverFrame(OP.TEXT, 'unmasked'))
  await peer.expectFailure(1002)
})

t.test('5.1 an unmasked client frame after valid ones: the valid ones are echoed, then 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 'masked'), serverFrame(OP.PING, 'unmasked ping'), clientFrame(OP.TEXT, 'after'))
  await peer.expectFrames([expectText('masked')])
  await peer.expectFailure(1002)
})

t.test('5.1 the server masks no frame: text, binary, pong and close all go out unmasked', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 't'), clientFrame(OP.BINARY, Buffer.from([1])), clientFrame(OP.PING, 'p'))
  // expectFrames and closeNormally check the mask bit of every frame.
  await peer.expectFrames([expectText('t'), expectBinary(Buffer.from([1])), expectPong('p')])
  await peer.closeNormally()
})

t.test('5.2 a 64-bit length with the most significant bit set fails with 1002 from the header alone', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.BINARY, Buffer.alloc(0), { declaredLength: 0x8000000000000000n, lengthEncoding: 64 }))
  await peer.expectFailure(1002)
})

t.test('5.2 the server uses the minimal length encoding (2, 4 and 10-byte headers at 125/126/65536)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payloads = [125, 126, 65535, 65536].map((n) => repeated('m', n))
  peer.send(...payloads.map((p) => clientFrame(OP.BINARY, p)))
  const frames = await peer.expectFrames(payloads.map((p) => expectBinary(p)))
  t.same(frames.map((f) => f.headerLength), [2, 4, 4, 10])
  await peer.closeNormally()
})

t.test('5.5 a control frame announcing 126 bytes with the 16-bit length form fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.PONG, repeated('x', 126)))
  await peer.expectFailure(1002)
})

t.test('5.5 a close frame over 125 bytes fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.CLOSE, Buffer.concat([Buffer.from([0x03, 0xe8]), repeated('r', 200)])))
  await peer.expectFailure(1002)
})

t.test('5.6 / 6.2 a text message is echoed as text and a binary one as binary (the type is the first frame\'s opcode)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(
    clientFrame(OP.BINARY, 'bin-', { fin: false }), clientFrame(OP.CONT, 'ary'),
    clientFrame(OP.TEXT, 'te', { fin: false }), clientFrame(OP.CONT, 'xt')
  )
  await peer.expectFrames([expectBinary('bin-ary'), expectText('text')])
  await peer.closeNormally()
})

t.test('6.2 a data frame after a completed message starts a new message', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 'a', { fin: false }), clientFrame(OP.CONT, 'b'), clientFrame(OP.TEXT, 'c'))
  await peer.expectFrames([expectText('ab'), expectText('c')])
  await peer.closeNormally()
})

t.test('6.2 the server removes the client mask (every mask key, including zero)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payload = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff))
  const keys = ['00000000', 'ffffffff', '01020304', '80808080'].map((k) => Buffer.from(k, 'hex'))
  peer.send(...keys.map((maskKey) => clientFrame(OP.BINARY, payload, { mask: maskKey })))
  await peer.expectFrames(keys.map(() => expectBinary(payload)))
  await peer.closeNormally()
})

t.test('10.4 a frame announcing more than maxMessageSize fails with 1009 before any payload is sent', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  // Only the header (64-bit length, mask key): the payload is never sent.
  peer.send(clientFrame(OP.BINARY, Buffer.alloc(0), { declaredLength: ECHO_MAX_MESSAGE_SIZE + 1, lengthEncoding: 64 }))
  await peer.expectFailure(1009)
})

t.test('10.4 a frame announcing 2^40 bytes fails with 1009 from the header alone', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.BINARY, Buffer.alloc(0), { declaredLength: 2n ** 40n, lengthEncoding: 64 }))
  await peer.expectFailure(1009)
})

t.test('10.4 a message of exactly maxMessageSize is echoed; fragments adding up to one byte more fail with 1009 at the crossing header', async (t) => {
  const LIMIT = 1000
  const { port: smallPort } = await buildApp(t, { plugin: { maxMessageSize: LIMIT }, noEcho: true, setup (app) {
    app.get('/', { websocket: true }, (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })))
  } })
  const peer = await FuzzPeer.open(t, smallPort)
  peer.send(clientFrame(OP.BINARY, repeated('x', LIMIT)))
  await peer.expectFrames([expectBinary(repeated('x', LIMIT))])
  peer.send(clientFrame(OP.BINARY, repeated('y', 600), { fin: false }), clientFrame(OP.CONT, repeated('y', 401)).subarray(0, 8))
  await peer.expectFailure(1009)
})

/** An app whose route `/send` runs `act` on each new socket, for what the server sends on its own. */
async function senderApp (t: Parameters<typeof buildApp>[0], act: (socket: import('../../src/index.js').WebSocket) => void): Promise<number> {
  const { port: senderPort } = await buildApp(t, { noEcho: true, setup (app) {
    app.get('/send', { websocket: true }, (socket) => { act(socket) })
  } })
  return senderPort
}

t.test('5.4 / 6.1 a message the server sends in fragments: first frame carries the opcode, FIN only on the last, in order', async (t) => {
  const senderPort = await senderApp(t, (socket) => {
    socket.send('one-', { fin: false })
    socket.send('two-', { fin: false })
    socket.ping('between')
    socket.send('three')
    socket.send(Buffer.from([9]))
  })
  const { client } = await RawClient.open(senderPort, '/send')
  t.teardown(() => client.destroy())
  const frames = []
  for (let i = 0; i < 5; i++) frames.push(await client.readFrame())
  t.same(frames.map((f) => [f.opcode, f.fin, f.masked, f.payload.toString('latin1')]), [
    [OP.TEXT, false, false, 'one-'],
    [OP.CONT, false, false, 'two-'],
    [OP.PING, true, false, 'between'],
    [OP.CONT, true, false, 'three'],
    [OP.BINARY, true, false, '\u0009']
  ])
})

t.test('5.4 the server never interleaves messages: a send during its fragmented message continues that message', async (t) => {
  const senderPort = await senderApp(t, (socket) => {
    socket.send('text-', { fin: false })
    socket.send(Buffer.from('bytes'), { binary: true })
    socket.send('next')
  })
  const { client } = await RawClient.open(senderPort, '/send')
  t.teardown(() => client.destroy())
  const frames = []
  for (let i = 0; i < 3; i++) frames.push(await client.readFrame())
  t.same(frames.map((f) => [f.opcode, f.fin, f.payload.toString()]), [
    [OP.TEXT, false, 'text-'],
    [OP.CONT, true, 'bytes'],
    [OP.TEXT, true, 'next']
  ])
})

t.test('5.5 the server cannot send a ping or pong over 125 bytes (RangeError, nothing sent)', async (t) => {
  const errors: string[] = []
  const senderPort = await senderApp(t, (socket) => {
    for (const send of [() => socket.ping(Buffer.alloc(126)), () => socket.pong(Buffer.alloc(126))]) {
      try { send() } catch (error) { errors.push((error as Error).name) }
    }
    socket.ping(Buffer.alloc(125, 0x61))
  })
  const { client } = await RawClient.open(senderPort, '/send')
  t.teardown(() => client.destroy())
  const f = await client.readFrame()
  t.same([f.opcode, f.payload.length], [OP.PING, 125], 'only the 125-byte ping went out')
  t.same(errors, ['RangeError', 'RangeError'])
})

t.test('5.6 the server cannot send invalid UTF-8 as text (TypeError, nothing sent)', async (t) => {
  const errors: string[] = []
  const senderPort = await senderApp(t, (socket) => {
    try { socket.send(Buffer.from([0x61, 0xff]), { binary: false }) } catch (error) { errors.push((error as Error).name) }
    socket.send('\ud800 lone surrogate in a JS string')
  })
  const { client } = await RawClient.open(senderPort, '/send')
  t.teardown(() => client.destroy())
  const f = await client.readFrame()
  t.equal(f.opcode, OP.TEXT)
  t.ok(isUtf8(f.payload), 'the only text frame sent is valid UTF-8')
  t.equal(f.payload.toString('utf8'), '\ufffd lone surrogate in a JS string', 'a lone surrogate is sent as U+FFFD')
  t.same(errors, ['TypeError'])
})

t.test('5.8 no extension is negotiated, so the server never sets an RSV bit (large, fragmented and control frames)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, repeated('r', 70000)), clientFrame(OP.PING, 'p'))
  await peer.expectFrames([expectText(repeated('r', 70000)), expectPong('p')])
  peer.send(closeFrame(1000))
  await peer.expectCloseEcho(1000)
})
