/**
 * RFC 6455 requirements that bind a client, for the package's `connect()`: the opening request
 * (§4.1), checking the server's answer (§4.1), masking (§5.1, §5.3, §10.3), framing and UTF-8
 * checks on what the server sends (§5.2, §8.1), pongs (§5.5.2), the closing handshake with the
 * server closing TCP first (§5.5.1, §7.1.1), a lost connection (§7.2.1), unsendable codes
 * (§7.4.1), and TLS with SNI (§4.1, §10.6). The peer is a raw TCP server that can answer
 * anything, or the plugin itself on HTTPS.
 */
import net, { type AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import Fastify from 'fastify'
import t from 'tap'
import websocket, { connect, WebSocketHandshakeError, type WebSocket } from '../../src/index.js'
import { OP, closeBody, clientFrame, decodeClose, serverFrame } from '../helpers/frames.js'
import { startRawServer, type RawServerConnection } from '../helpers/raw-server.js'
import { EVENTS, EventLog, WAIT, sleep, until, withTimeout } from '../helpers/wait.js'
import { Teardown } from '../helpers/teardown.js'
import { KEY, CERT } from '../helpers/tls.js'

/** An open client on a raw server that accepted it with a valid 101. */
async function openClient (t: Teardown, options: Parameters<typeof connect>[1] = {}) {
  const server = await startRawServer(t, { onRequest: (c) => c.write(c.switching()) })
  const socket = await withTimeout(connect(server.url, options), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  const c = await server.next()
  const { events } = new EventLog(socket, EVENTS)
  return { socket, c, events }
}

/** What `connect` rejected with (fails the test if it resolved). */
async function rejection (promise: Promise<WebSocket>): Promise<unknown> {
  return await withTimeout(promise.then((socket) => { socket.terminate(); throw new Error('connect resolved') }, (error: unknown) => error), WAIT, 'connect to reject')
}

t.test('4.1 the opening request: GET, HTTP/1.1, Host with the port, Upgrade, Connection, a 16-byte key, version 13, the resource name', async (t) => {
  const server = await startRawServer(t, { onRequest: (c) => c.write(c.switching()) })
  const socket = await withTimeout(connect(`${server.url}/chat/room?id=7&x=%20`), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  const c = await server.next()
  t.equal(c.requestLine, 'GET /chat/room?id=7&x=%20 HTTP/1.1')
  t.equal(c.headers.host, `127.0.0.1:${server.port}`)
  t.equal(c.headers.upgrade, 'websocket')
  t.match(c.headers.connection, /(^|,\s*)upgrade(\s*,|$)/i)
  t.equal(Buffer.from(c.key, 'base64').length, 16)
  t.equal(Buffer.from(c.key, 'base64').toString('base64'), c.key, 'canonical base64')
  t.equal(c.headers['sec-websocket-version'], '13')
  t.equal(c.headers['sec-websocket-protocol'], undefined, 'no subprotocol offered unless asked')
  t.equal(c.headers['sec-websocket-extensions'], undefined, 'no extension offered')
})

t.test('4.1 the resource name is / for a URL without a path', async (t) => {
  const server = await startRawServer(t, { onRequest: (c) => c.write(c.switching()) })
  const socket = await withTimeout(connect(server.url), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  t.equal((await server.next()).requestLine, 'GET / HTTP/1.1')
})

t.test('4.1 each connection gets a fresh random Sec-WebSocket-Key', async (t) => {
  const server = await startRawServer(t, { onRequest: (c) => c.write(c.switching()) })
  const keys = new Set<string>()
  for (let i = 0; i < 5; i++) {
    const socket = await withTimeout(connect(server.url), WAIT, 'connect')
    t.teardown(() => socket.terminate())
    keys.add((await server.next()).key)
  }
  t.equal(keys.size, 5, 'five connections, five different keys')
})

t.test('4.1 offered subprotocols must be unique tokens: anything else throws TypeError, valid offers are sent in order', async (t) => {
  const server = await startRawServer(t, { onRequest: (c) => c.write(c.switching(['Sec-WebSocket-Protocol: v2'])) })
  await t.rejects(connect(server.url, { protocols: ['chat', 'chat'] }), TypeError, 'duplicates')
  await t.rejects(connect(server.url, { protocols: ['a b'] }), TypeError, 'not a token')
  await t.rejects(connect(server.url, { protocols: [''] }), TypeError, 'empty')
  const socket = await withTimeout(connect(server.url, { protocols: ['v2', 'v1'] }), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  t.equal(socket.protocol, 'v2')
  let c = await server.next()
  while (c.requestLine === '') c = await server.next()
  t.equal(c.headers['sec-websocket-protocol'], 'v2, v1')
})

t.test('4.1 an invalid subprotocol offer is refused before any TCP connection is opened (none is left open)', async (t) => {
  const opened: RawServerConnection[] = []
  const { url } = await startRawServer(t, { onConnection: (c) => { opened.push(c) } })
  await t.rejects(connect(url, { protocols: ['chat', 'chat'] }), TypeError)
  await t.rejects(connect(url, { protocols: ['a b'] }), TypeError)
  await sleep(100)
  t.same(opened.map((c) => ({ requestSent: c.requestLine !== '', closedByClient: c.ended })), [],
    'no TCP connection was opened for a request that was never going to be sent')
})

t.test('4.1 an invalid WebSocket URI (wrong scheme, a fragment) fails before connecting', async (t) => {
  await t.rejects(connect('ftp://127.0.0.1/'), TypeError)
  await t.rejects(connect('ws://127.0.0.1:1/#fragment'), TypeError)
})

t.test('4.1 a connection that cannot be opened fails (connect rejects with the network error)', async (t) => {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const error = await rejection(connect(`ws://127.0.0.1:${port}`))
  t.equal((error as NodeJS.ErrnoException).code, 'ECONNREFUSED')
})

t.test('4.1 the client sends nothing after its request until the 101 has arrived', async (t) => {
  let answer: (() => void) | undefined
  const server = await startRawServer(t, { onRequest: (c) => { answer = () => c.write(c.switching()) } })
  const pending = connect(server.url)
  const c = await server.next()
  await c.request()
  await sleep(100)
  t.equal(c.pending.length, 0, 'no byte after the request while the answer is withheld')
  answer?.()
  const socket = await withTimeout(pending, WAIT, 'connect')
  t.teardown(() => socket.terminate())
  socket.send('now')
  const f = await c.readFrame()
  t.same([f.opcode, f.payload.toString()], [OP.TEXT, 'now'])
})

t.test('4.1 a status other than 101 fails the connection: connect rejects with the status, the client closes TCP', async (t) => {
  for (const status of ['403 Forbidden', '302 Found', '200 OK']) {
    const server = await startRawServer(t, { onRequest: (c) => c.write(`HTTP/1.1 ${status}\r\nContent-Length: 2\r\nLocation: /x\r\n\r\nno`) })
    const error = await rejection(connect(server.url))
    t.type(error, WebSocketHandshakeError, status)
    t.equal((error as WebSocketHandshakeError).statusCode, Number(status.slice(0, 3)))
    await (await server.next()).waitEnded()
  }
})

const BAD_ANSWERS: Array<[string, (c: RawServerConnection) => string]> = [
  ['no Upgrade header', (c) => c.switching().replace('Upgrade: websocket\r\n', '')],
  ['Upgrade: h2c', (c) => c.switching().replace('Upgrade: websocket', 'Upgrade: h2c')],
  ['no Connection header', (c) => c.switching().replace('Connection: Upgrade\r\n', '')],
  ['Connection: keep-alive', (c) => c.switching().replace('Connection: Upgrade', 'Connection: keep-alive')],
  ['no Sec-WebSocket-Accept', (c) => c.switching().replace(/Sec-WebSocket-Accept: .*\r\n/, '')],
  ['a wrong Sec-WebSocket-Accept', (c) => c.switching().replace(/Sec-WebSocket-Accept: .*\r\n/, 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n')],
  ['an extension the client did not offer', (c) => c.switching(['Sec-WebSocket-Extensions: permessage-deflate'])],
  ['a subprotocol the client did not offer', (c) => c.switching(['Sec-WebSocket-Protocol: v3'])],
  ['two subprotocols', (c) => c.switching(['Sec-WebSocket-Protocol: v1, v2'])]
]

for (const [label, answer] of BAD_ANSWERS) {
  t.test(`4.1 a 101 with ${label} fails the connection: connect rejects and the client closes TCP`, async (t) => {
    const server = await startRawServer(t, { onRequest: (c) => c.write(answer(c)) })
    const error = await rejection(connect(server.url, { protocols: ['v1', 'v2'] }))
    t.type(error, WebSocketHandshakeError)
    await (await server.next()).waitEnded()
    t.pass('the client closed the connection')
  })
}

t.test('4.1 header names and tokens in the 101 are case-insensitive; the accept value may have surrounding whitespace', async (t) => {
  const server = await startRawServer(t, { onRequest: (c) => c.write(c.switching()
    .replace('Upgrade: websocket', 'upgrade: WebSocket')
    .replace('Connection: Upgrade', 'CONNECTION: keep-alive, UPGRADE')
    .replace(/Sec-WebSocket-Accept: (.*)\r\n/, 'sec-websocket-accept:   $1  \r\n')
    .replace('\r\n\r\n', '\r\nSec-WebSocket-Protocol: v2\r\n\r\n')) })
  const socket = await withTimeout(connect(server.url, { protocols: ['v1', 'v2'] }), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  t.equal(socket.protocol, 'v2', 'the subprotocol in use is the one the server picked')
})

t.test('5.1 / 5.3 / 10.3 every client frame is masked, each with a fresh key', async (t) => {
  const { socket, c } = await openClient(t)
  for (let i = 0; i < 40; i++) socket.send(`m${i}`)
  socket.send(Buffer.alloc(70000, 1))
  socket.ping('p')
  socket.pong('q')
  socket.close(1000)
  const frames = []
  for (let i = 0; i < 44; i++) frames.push(await c.readFrame())
  t.ok(frames.every((f) => f.masked && f.maskKey !== null), 'the mask bit is set and a key is present on every frame, control frames too')
  t.same(frames.slice(0, 40).map((f) => f.payload.toString()), Array.from({ length: 40 }, (_, i) => `m${i}`), 'payloads unmask correctly')
  const keys = frames.map((f) => f.maskKey!.toString('hex'))
  t.equal(new Set(keys).size, keys.length, 'no mask key repeats')
  t.equal(keys.filter((k) => k === '00000000').length, 0, 'no all-zero key')
})

t.test('5.1 / 7.1.7 a masked frame from the server fails the client with 1002: masked close frame, nothing more processed, TCP closed', async (t) => {
  const { c, events } = await openClient(t)
  c.write(Buffer.concat([clientFrame(OP.TEXT, 'masked by the server'), serverFrame(OP.TEXT, 'after'), serverFrame(OP.PING, 'after')]))
  const f = await c.readFrame()
  t.same([f.opcode, f.masked, decodeClose(f.payload).code], [OP.CLOSE, true, 1002])
  await c.waitEnded()
  t.equal(c.pending.length, 0, 'no pong, nothing after the close frame')
  await until(() => events.some((e) => e[0] === 'close'), WAIT, 'the close event')
  t.same(events.map((e) => e[0]), ['error', 'close'], 'no message, no ping event: the input after the bad frame is discarded')
})

for (const [label, bytes, code] of [
  ['an RSV1 bit (no extension negotiated)', serverFrame(OP.TEXT, 'x', { rsv1: true }), 1002],
  ['reserved opcode 3', serverFrame(0x3, 'x'), 1002],
  ['reserved control opcode 0xB', serverFrame(0xb, ''), 1002],
  ['a fragmented ping', serverFrame(OP.PING, 'x', { fin: false }), 1002],
  ['a continuation with no message', serverFrame(OP.CONT, 'x'), 1002],
  ['invalid UTF-8 in a text message', serverFrame(OP.TEXT, Buffer.from([0xed, 0xa0, 0x80])), 1007],
  ['invalid UTF-8 in the first fragment (fail fast)', serverFrame(OP.TEXT, Buffer.from([0x61, 0xc0]), { fin: false }), 1007],
  ['a close frame with code 1005', serverFrame(OP.CLOSE, closeBody(1005)), 1002]
] as Array<[string, Buffer, number]>) {
  t.test(`5.2 / 8.1 ${label} from the server fails the client with ${code}`, async (t) => {
    const { c } = await openClient(t)
    c.write(bytes)
    const f = await c.readFrame()
    t.same([f.opcode, f.masked, decodeClose(f.payload).code], [OP.CLOSE, true, code])
  })
}

t.test('5.4 / 6.2 the client joins fragmented messages with a ping in between and answers the ping first', async (t) => {
  const { c, events } = await openClient(t)
  c.write(Buffer.concat([
    serverFrame(OP.TEXT, 'frag', { fin: false }),
    serverFrame(OP.PING, 'mid'),
    serverFrame(OP.CONT, 'ment')
  ]))
  const pong = await c.readFrame()
  t.same([pong.opcode, pong.masked, pong.payload.toString()], [OP.PONG, true, 'mid'])
  await until(() => events.some((e) => e[0] === 'message'), WAIT, 'the message')
  const message = events.find((e) => e[0] === 'message')!
  t.same([String(message[1]), message[2]], ['fragment', false])
})

t.test('5.5.2 the client answers a ping with a masked pong carrying the same payload', async (t) => {
  const { c } = await openClient(t)
  const payload = Buffer.from(Array.from({ length: 125 }, (_, i) => i))
  c.write(serverFrame(OP.PING, payload))
  const f = await c.readFrame()
  t.same([f.opcode, f.masked, f.fin], [OP.PONG, true, true])
  t.ok(f.payload.equals(payload), 'identical application data')
})

t.test('5.5.2 after the server\'s close frame the client does not answer a ping (and sends no second close)', async (t) => {
  const { c } = await openClient(t)
  c.write(Buffer.concat([serverFrame(OP.CLOSE, closeBody(1000)), serverFrame(OP.PING, 'too late')]))
  const f = await c.readFrame()
  t.same([f.opcode, decodeClose(f.payload).code], [OP.CLOSE, 1000])
  await sleep(100)
  t.equal(c.pending.length, 0, 'no pong after the close')
})

t.test('5.5.1 the server closes first: the client answers with a masked close frame echoing the code', async (t) => {
  const { c, events } = await openClient(t)
  c.write(serverFrame(OP.CLOSE, closeBody(1001, 'going away')))
  const f = await c.readFrame()
  t.same([f.opcode, f.masked, decodeClose(f.payload).code], [OP.CLOSE, true, 1001], 'close echoed with the same code')
  c.socket.end()
  await until(() => events.some((e) => e[0] === 'close'), WAIT, 'the close event')
  const close = events.find((e) => e[0] === 'close')!
  t.same([close[1], String(close[2])], [1001, 'going away'], 'the close event has the server code and reason')
})

t.test('7.1.1 the server closes first: after echoing the close the client waits for the server to close TCP', async (t) => {
  const { c, events } = await openClient(t)
  c.write(serverFrame(OP.CLOSE, closeBody(1001)))
  await c.readFrame()
  await sleep(150)
  t.equal(c.ended, false, 'the client has not closed TCP: it waits for the server (SHOULD, §5.5.1 and §7.1.1)')
  c.socket.end()
  await until(() => events.some((e) => e[0] === 'close'), WAIT, 'the close event')
  t.equal(events.find((e) => e[0] === 'close')![1], 1001)
})

t.test('7.1.2 the client starts the close: a masked close frame with its code and reason', async (t) => {
  const { socket, c, events } = await openClient(t)
  socket.close(4000, 'client done')
  const f = await c.readFrame()
  t.same([f.opcode, f.masked, decodeClose(f.payload)], [OP.CLOSE, true, { code: 4000, reason: 'client done' }])
  c.write(serverFrame(OP.CLOSE, closeBody(4000)))
  c.socket.end()
  await until(() => events.some((e) => e[0] === 'close'), WAIT, 'the close event')
  t.equal(events.find((e) => e[0] === 'close')![1], 4000)
})

t.test('7.1.1 the client starts the close: after the reply it waits for the server to close TCP', async (t) => {
  const { socket, c, events } = await openClient(t, { closeTimeout: 2000 })
  socket.close(4000)
  await c.readFrame()
  c.write(serverFrame(OP.CLOSE, closeBody(4000)))
  await sleep(150)
  t.equal(c.ended, false, 'the client has not closed TCP: it waits for the server (SHOULD, §5.5.1 and §7.1.1)')
  c.socket.end()
  await until(() => events.some((e) => e[0] === 'close'), WAIT, 'the close event')
  t.equal(events.find((e) => e[0] === 'close')![1], 4000)
})

t.test('5.5.1 / 7.1.1 a server that never closes TCP: the client closes it itself after closeTimeout', async (t) => {
  const { socket, c, events } = await openClient(t, { closeTimeout: 200 })
  c.socket.allowHalfOpen = true
  socket.close(1000)
  await c.readFrame()
  c.write(serverFrame(OP.CLOSE, closeBody(1000)))
  await c.waitEnded(WAIT)
  await until(() => events.some((e) => e[0] === 'close'), WAIT, 'the close event')
  t.equal(events.find((e) => e[0] === 'close')![1], 1000, 'a clean close with the server code')
})

t.test('5.5.1 after its close frame the client sends no data (send reports an error, nothing on the wire)', async (t) => {
  const { socket, c } = await openClient(t)
  socket.close(1000)
  const errors: string[] = []
  socket.send('late', (error) => errors.push(error?.name ?? 'none'))
  socket.ping('late')
  const f = await c.readFrame()
  t.equal(f.opcode, OP.CLOSE)
  await sleep(50)
  t.equal(c.pending.length, 0, 'nothing after the close frame')
  t.same(errors, ['WebSocketStateError'])
})

t.test('7.2.1 the connection is lost without a close frame: the client reports 1006', async (t) => {
  const { c, events } = await openClient(t)
  c.socket.destroy()
  await until(() => events.some((e) => e[0] === 'close'), WAIT, 'the close event')
  t.equal(events.find((e) => e[0] === 'close')![1], 1006)
})

t.test('5.5 the client cannot send a control frame over 125 bytes or a close reason over 123 bytes (RangeError)', async (t) => {
  const { socket, c } = await openClient(t)
  t.throws(() => socket.ping(Buffer.alloc(126)), RangeError, 'ping of 126 bytes')
  t.throws(() => socket.pong(Buffer.alloc(126)), RangeError, 'pong of 126 bytes')
  t.throws(() => socket.close(1000, 'r'.repeat(124)), RangeError, 'close reason of 124 bytes')
  socket.ping(Buffer.alloc(125, 1))
  const f = await c.readFrame()
  t.same([f.opcode, f.payload.length], [OP.PING, 125], 'only the 125-byte ping went out')
})

t.test('5.6 the client cannot send invalid UTF-8 as text (TypeError, nothing sent)', async (t) => {
  const { socket, c } = await openClient(t)
  t.throws(() => socket.send(Buffer.from([0x61, 0xed, 0xa0, 0x80]), { binary: false }), TypeError)
  socket.send('valid')
  const f = await c.readFrame()
  t.same([f.opcode, f.payload.toString()], [OP.TEXT, 'valid'], 'only the valid text went out')
})

t.test('10.4 the client limits incoming messages: a frame announcing more than maxMessageSize fails with 1009 from the header alone', async (t) => {
  const { c, events } = await openClient(t, { maxMessageSize: 100 })
  c.write(serverFrame(OP.BINARY, Buffer.alloc(101)).subarray(0, 2))
  const f = await c.readFrame()
  t.same([f.opcode, f.masked, decodeClose(f.payload).code], [OP.CLOSE, true, 1009])
  t.equal(events.filter((e) => e[0] === 'message').length, 0)
})

t.test('7.4.1 the client never sends 1005, 1006 or 1015: close(code) throws RangeError', async (t) => {
  const { socket, c } = await openClient(t)
  for (const code of [1005, 1006, 1015]) t.throws(() => socket.close(code), RangeError, `close(${code})`)
  socket.send('still open')
  const f = await c.readFrame()
  t.same([f.opcode, f.payload.toString()], [OP.TEXT, 'still open'])
})

/** The echo app of example-app/echo.js on HTTPS (Fastify's `https` option), 127.0.0.1, port 0. */
async function secureEchoApp (t: Teardown) {
  const app = Fastify({ logger: false, https: { key: KEY, cert: CERT } })
  t.teardown(() => withTimeout(app.close(), 7000, 'app.close()'))
  await app.register(websocket, { maxMessageSize: 64 * 1024 * 1024 })
  app.get('/', { websocket: true }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
  })
  const servernames: Array<string | false | null> = []
  app.server.on('secureConnection', (socket: TLSSocket) => servernames.push(socket.servername))
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { port: (app.server.address() as AddressInfo).port, servernames }
}

t.test('4.1 / 10.6 wss: TLS before the handshake, with SNI for a host name; the plugin serves it over HTTPS', async (t) => {
  const { port, servernames } = await secureEchoApp(t)
  // The URL names localhost (sent as SNI); the TCP connection goes to 127.0.0.1 where the app listens.
  const socket = await withTimeout(connect(`wss://localhost:${port}/`, { tls: { ca: CERT, host: '127.0.0.1' } }), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  t.same(servernames, ['localhost'], 'the client sent the host name in the server_name extension')
  const echoed = new Promise<[Buffer, boolean]>((resolve) => socket.once('message', (data, isBinary) => resolve([data, isBinary])))
  socket.send('through the tunnel')
  const [data, isBinary] = await withTimeout(echoed, WAIT, 'the echo')
  t.same([data.toString(), isBinary], ['through the tunnel', false])
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
  socket.close(1000)
  t.equal(await withTimeout(closed, WAIT, 'the close'), 1000)
})

t.test('4.1 wss: a certificate that cannot be verified fails the connection before any handshake data', async (t) => {
  const { port } = await secureEchoApp(t)
  const error = await rejection(connect(`wss://localhost:${port}/`, { tls: { host: '127.0.0.1' } }))
  t.type(error, Error)
  t.notOk(error instanceof WebSocketHandshakeError, `a TLS error, not an HTTP one (${(error as NodeJS.ErrnoException).code})`)
})
