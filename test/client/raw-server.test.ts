/**
 * Our client against a raw `net` server that can answer anything: it checks that every client
 * frame is masked with a fresh key, that bad handshake answers (wrong accept key, a refusal
 * with a body, no Upgrade header, an extension, a timeout) reject `connect`, and that a masked
 * server frame fails the connection with 1002.
 */
import net from 'node:net'
import t from 'tap'
import { connect, WebSocketHandshakeError, WebSocketProtocolError, type WebSocket } from '../../src/index.js'
import { EVENTS, EventLog, WAIT, turn, until, withTimeout } from '../helpers/wait.js'
import { OP, closeBody, clientFrame, computeAccept, serverFrame } from '../helpers/frames.js'
import { startRawServer, type RawServerConnection } from '../helpers/raw-server.js'

/** Resolves to what `connect` rejected with, or fails if it resolved. */
async function rejection (promise: Promise<WebSocket>, ms = WAIT): Promise<unknown> {
  return await withTimeout(promise.then(
    (socket) => {
      socket.terminate()
      throw new Error('connect resolved, expected a rejection')
    },
    (error: unknown) => error
  ), ms, 'connect to reject')
}

t.test('the client masks every frame, each with a different key', async (t) => {
  let connection: RawServerConnection | undefined
  const { url } = await startRawServer(t, { onRequest: (c) => {
    connection = c
    c.socket.write(c.switching())
  } })
  const socket = await withTimeout(connect(url), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  socket.send('one')
  socket.send('two')
  socket.send(Buffer.alloc(300, 1))
  socket.ping('p')
  const frames = await connection!.waitFrames(4)
  t.ok(frames.every((f) => f.masked), 'the mask bit is set on every frame')
  t.same(frames.map((f) => f.payload.toString('latin1').slice(0, 3)), ['one', 'two', '\u0001\u0001\u0001', 'p'], 'the payloads unmask correctly')
  const keys = frames.map((f) => f.maskKey!.toString('hex'))
  t.equal(keys[0] === keys[1], false, 'two consecutive frames use different mask keys')
  t.equal(new Set(keys).size, keys.length, 'no key repeats')
})

t.test('the request is a valid opening handshake with our headers, path and query', async (t) => {
  let connection: RawServerConnection | undefined
  const { url, port } = await startRawServer(t, { onRequest: (c) => {
    connection = c
    c.socket.write(c.switching())
  } })
  const socket = await withTimeout(connect(`${url}/chat/room?id=7`, { protocols: ['x', 'y'], headers: { 'X-Custom': 'yes', cookie: 'a=1' } }), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  const c = connection!
  t.equal(c.requestLine, 'GET /chat/room?id=7 HTTP/1.1')
  t.equal(c.headers.host, `127.0.0.1:${port}`)
  t.equal(c.headers.upgrade.toLowerCase(), 'websocket')
  t.match(c.headers.connection, /upgrade/i)
  t.equal(c.headers['sec-websocket-version'], '13')
  t.equal(Buffer.from(c.key, 'base64').length, 16, 'the key is 16 random bytes in base64')
  t.equal(c.headers['sec-websocket-protocol'], 'x, y')
  t.equal(c.headers['x-custom'], 'yes')
  t.equal(c.headers.cookie, 'a=1')
  t.equal(socket.protocol, '', 'the server picked none')
})

t.test('a wrong Sec-WebSocket-Accept -> WebSocketHandshakeError', async (t) => {
  const { url } = await startRawServer(t, { onRequest: (c) => {
    c.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${computeAccept('AAAAAAAAAAAAAAAAAAAAAA==')}\r\n\r\n`)
  } })
  const error = await rejection(connect(url))
  t.type(error, WebSocketHandshakeError)
  t.match((error as WebSocketHandshakeError).message, /Sec-WebSocket-Accept/)
  t.equal((error as WebSocketHandshakeError).statusCode, 101)
})

t.test('a 101 with no Upgrade header, or with an extension we did not offer -> rejects', async (t) => {
  const cases: Array<[string, (c: RawServerConnection) => string]> = [
    ['no Upgrade', (c) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAccept(c.key)}\r\n\r\n`],
    ['an extension', (c) => c.switching(['Sec-WebSocket-Extensions: permessage-deflate'])],
    ['a subprotocol when none was offered', (c) => c.switching(['Sec-WebSocket-Protocol: chat'])],
    ['garbage instead of HTTP', () => 'SSH-2.0-OpenSSH\r\n\r\n']
  ]
  for (const [label, answer] of cases) {
    const { url } = await startRawServer(t, { onRequest: (c) => c.socket.write(answer(c)) })
    const error = await rejection(connect(url))
    t.type(error, WebSocketHandshakeError, label)
  }
})

t.test('a 403 with a body -> rejects with statusCode, headers and body', async (t) => {
  const body = JSON.stringify({ error: 'Forbidden', message: 'no token' })
  const { url } = await startRawServer(t, { onRequest: (c) => {
    c.socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nX-Reason: no-token\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  } })
  const error = await rejection(connect(url)) as WebSocketHandshakeError
  t.type(error, WebSocketHandshakeError)
  t.equal(error.statusCode, 403)
  t.equal(error.headers['content-type'], 'application/json')
  t.equal(error.headers['x-reason'], 'no-token')
  t.same(JSON.parse(error.body), { error: 'Forbidden', message: 'no token' })
  t.equal(error.code, 'WS_ERR_HANDSHAKE_FAILED')
})

t.test('a refusal with no Content-Length: the body is read until the server closes', async (t) => {
  const { url } = await startRawServer(t, { onRequest: (c) => {
    c.socket.write('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\npart one, ')
    setTimeout(() => c.socket.end('part two'), 20)
  } })
  const error = await rejection(connect(url)) as WebSocketHandshakeError
  t.equal(error.statusCode, 503)
  t.equal(error.body, 'part one, part two')
})

t.test('a server that never answers: connect rejects after handshakeTimeout', async (t) => {
  const { url } = await startRawServer(t, { onRequest: () => {} })
  const error = await rejection(connect(url, { handshakeTimeout: 100 }))
  t.type(error, WebSocketHandshakeError)
  t.match((error as Error).message, /timed out/)
})

t.test('a server that closes during the handshake: connect rejects', async (t) => {
  const { url } = await startRawServer(t, { onRequest: (c) => c.socket.end() })
  t.type(await rejection(connect(url)), WebSocketHandshakeError)
})

t.test('nothing listening: connect rejects with the network error', async (t) => {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const error = await rejection(connect(`ws://127.0.0.1:${port}`))
  t.equal((error as NodeJS.ErrnoException).code, 'ECONNREFUSED')
})

t.test('bad URLs are rejected before connecting', async (t) => {
  await t.rejects(connect('ftp://127.0.0.1/'), TypeError)
  await t.rejects(connect('ws://127.0.0.1:1/#fragment'), TypeError)
})

t.test('a masked frame from the server fails the client with 1002', async (t) => {
  let connection: RawServerConnection | undefined
  const { url } = await startRawServer(t, { onRequest: (c) => {
    connection = c
    c.socket.write(c.switching())
  } })
  const socket = await withTimeout(connect(url), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  const log = new EventLog(socket, EVENTS)
  connection!.socket.write(clientFrame(OP.TEXT, 'masked by a server'))
  const [error] = await log.nth('error') as [WebSocketProtocolError]
  t.type(error, WebSocketProtocolError)
  t.equal(error.code, 'WS_ERR_UNEXPECTED_MASK')
  t.equal(error.closeCode, 1002)
  const [frame] = await connection!.waitFrames(1)
  t.equal(frame.opcode, OP.CLOSE)
  t.equal(frame.closeCode, 1002, 'the client sent a 1002 close frame')
  t.equal(frame.masked, true)
  await until(() => connection!.ended, WAIT, 'the client to end TCP')
  connection!.socket.end()
  const [code] = await log.nth('close') as [number]
  t.equal(code, 1006)
  await turn()
  t.equal(log.count('error'), 1)
  t.equal(log.count('close'), 1)
  t.equal(log.count('message'), 0)
})

t.test('frames sent together with the 101 reach listeners attached after connect resolves', async (t) => {
  const { url } = await startRawServer(t, { onRequest: (c) => {
    // One write: the greeting arrives in the same TCP segment as the 101.
    c.socket.write(Buffer.concat([Buffer.from(c.switching()), serverFrame(OP.TEXT, 'welcome'), serverFrame(OP.PING, 'hi')]))
  } })
  const socket = await withTimeout(connect(url), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  const log = new EventLog(socket, EVENTS)
  const [data, isBinary] = await log.nth('message') as [Buffer, boolean]
  t.equal(data.toString(), 'welcome')
  t.equal(isBinary, false)
  const [ping] = await log.nth('ping') as [Buffer]
  t.equal(ping.toString(), 'hi')
})

t.test('a close frame sent together with the 101 is reported with its code', async (t) => {
  let connection: RawServerConnection | undefined
  const { url } = await startRawServer(t, { onRequest: (c) => {
    connection = c
    c.socket.write(Buffer.concat([Buffer.from(c.switching()), serverFrame(OP.CLOSE, closeBody(4003, 'go away'))]))
    // §7.1.1: the server closes TCP once the client has answered (the client waits for it).
    void c.waitFrames(1).then(() => c.socket.end())
  } })
  const socket = await withTimeout(connect(url), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  const log = new EventLog(socket, EVENTS)
  const [code, reason] = await log.nth('close') as [number, Buffer]
  t.equal(code, 4003)
  t.equal(reason.toString(), 'go away')
  const [echo] = await connection!.waitFrames(1)
  t.equal(echo.closeCode, 4003, 'the client echoed the close')
})

t.test('the server closes the TCP connection without a close frame: 1006', async (t) => {
  let connection: RawServerConnection | undefined
  const { url } = await startRawServer(t, { onRequest: (c) => {
    connection = c
    c.socket.write(c.switching())
  } })
  const socket = await withTimeout(connect(url), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  const log = new EventLog(socket, EVENTS)
  connection!.socket.end()
  const [code] = await log.nth('close') as [number]
  t.equal(code, 1006)
  await until(() => connection!.ended, WAIT, 'the client to end its side too')
  t.equal(socket.readyState, socket.CLOSED)
})

t.test('a 101 that arrives a few bytes at a time is assembled', async (t) => {
  const { url } = await startRawServer(t, { onRequest: (c) => {
    const response = Buffer.concat([Buffer.from(c.switching()), serverFrame(OP.TEXT, 'after a slow 101')])
    let offset = 0
    const drip = (): void => {
      if (c.socket.destroyed || offset >= response.length) return
      c.socket.write(response.subarray(offset, offset + 7))
      offset += 7
      setTimeout(drip, 1)
    }
    drip()
  } })
  const socket = await withTimeout(connect(url), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  const log = new EventLog(socket, EVENTS)
  const [data] = await log.nth('message') as [Buffer]
  t.equal(data.toString(), 'after a slow 101')
})

t.test('a refusal whose body arrives in pieces is read up to Content-Length', async (t) => {
  const body = 'x'.repeat(50) + 'y'.repeat(50)
  const { url } = await startRawServer(t, { onRequest: (c) => {
    c.socket.write(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 30)}`)
    setTimeout(() => c.socket.write(body.slice(30)), 20)
  } })
  const error = await rejection(connect(url)) as WebSocketHandshakeError
  t.equal(error.statusCode, 429)
  t.equal(error.headers['retry-after'], '5')
  t.equal(error.body, body, 'the whole body, without waiting for the server to close')
})

t.test('a response head larger than maxHandshakeSize -> rejects', async (t) => {
  const { url } = await startRawServer(t, { onRequest: (c) => {
    c.socket.write(`HTTP/1.1 101 Switching Protocols\r\nX-Big: ${'a'.repeat(4096)}\r\n`)
  } })
  const error = await rejection(connect(url, { maxHandshakeSize: 1024 }))
  t.type(error, WebSocketHandshakeError)
  t.match((error as Error).message, /too large/)
})
