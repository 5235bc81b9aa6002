/**
 * The opening handshake over a raw socket (RFC 6455 §4.2.1, §4.2.2): the exact 101, every
 * refusal with its exact status, the server closing the socket after each refusal, and
 * frames that arrive in the same packet as the request.
 */
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { RawClient, handshakeRequest, type HandshakeSpec } from '../helpers/raw-client.js'
import { buildFrame, OP } from '../helpers/frames.js'
import { sleep } from '../helpers/wait.js'

t.test('a valid handshake gets the exact 101 of RFC 6455 §4.2.2', async (t) => {
  const { port } = await buildApp(t)
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  // The sample nonce of RFC 6455 §1.3 and its accept value.
  client.write(handshakeRequest({ path: '/echo', headers: { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } }))
  const response = await client.readResponse()
  t.equal(response.httpVersion, '1.1')
  t.equal(response.statusCode, 101)
  t.equal(response.statusMessage, 'Switching Protocols')
  t.equal(response.headers.upgrade.toLowerCase(), 'websocket')
  t.equal(response.headers.connection.toLowerCase(), 'upgrade')
  t.equal(response.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
  t.equal(response.headers['sec-websocket-protocol'], undefined, 'no subprotocol unless one is selected')
  t.equal(response.headers['content-length'], undefined)
  t.equal(response.headers['transfer-encoding'], undefined)
  t.equal(client.pending.length, 0, 'nothing after the head until we send something')
  client.write(buildFrame({ opcode: OP.TEXT, payload: 'after 101' }))
  t.equal((await client.readFrame()).payload.toString(), 'after 101')
})

t.test('header names and tokens are matched case-insensitively; extension offers are declined', async (t) => {
  const { port } = await buildApp(t)
  const { client, response } = await RawClient.open(port, '/echo', {
    headers: {
      Upgrade: 'WebSocket',
      Connection: 'keep-alive, UPGRADE',
      'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits'
    }
  })
  t.teardown(() => client.destroy())
  t.equal(response.statusCode, 101)
  t.equal(response.headers['sec-websocket-extensions'], undefined, 'no extension is echoed')
  client.write(buildFrame({ opcode: OP.TEXT, payload: 'hi' }))
  const frame = await client.readFrame()
  t.equal(frame.rsv1, false, 'frames are not compressed')
  t.equal(frame.payload.toString(), 'hi')
})

interface BadHandshake {
  name: string
  spec: HandshakeSpec
  status: number
  headers?: Record<string, string>
}

const BAD_HANDSHAKES: BadHandshake[] = [
  { name: 'missing Sec-WebSocket-Key', spec: { headers: { 'Sec-WebSocket-Key': null } }, status: 400 },
  { name: 'key that is not base64', spec: { headers: { 'Sec-WebSocket-Key': 'not a key!' } }, status: 400 },
  { name: 'key of 15 bytes', spec: { headers: { 'Sec-WebSocket-Key': Buffer.alloc(15, 1).toString('base64') } }, status: 400 },
  { name: 'key of 17 bytes', spec: { headers: { 'Sec-WebSocket-Key': Buffer.alloc(17, 1).toString('base64') } }, status: 400 },
  {
    name: 'two keys',
    spec: { extraLines: [`Sec-WebSocket-Key: ${Buffer.alloc(16, 2).toString('base64')}`] },
    status: 400
  },
  {
    name: 'Sec-WebSocket-Version 8',
    spec: { headers: { 'Sec-WebSocket-Version': '8' } },
    status: 426,
    headers: { 'sec-websocket-version': '13' }
  },
  {
    name: 'missing Sec-WebSocket-Version',
    spec: { headers: { 'Sec-WebSocket-Version': null } },
    status: 426,
    headers: { 'sec-websocket-version': '13' }
  },
  { name: 'POST upgrade', spec: { method: 'POST' }, status: 400 },
  { name: 'Upgrade: h2c', spec: { headers: { Upgrade: 'h2c', Connection: 'Upgrade, HTTP2-Settings', 'HTTP2-Settings': 'AAMAAABkAAQAoAAAAAIAAAAA' } }, status: 400 },
  { name: 'missing Host', spec: { headers: { Host: null } }, status: 400 }
]

for (const bad of BAD_HANDSHAKES) {
  t.test(`${bad.name}: ${bad.status}, no upgrade, and the server closes the socket`, async (t) => {
    let handlerCalled = false
    const { port } = await buildApp(t, {
      setup (app) {
        app.get('/ws', { websocket: true }, () => { handlerCalled = true })
      }
    })
    const client = await RawClient.connect(port)
    t.teardown(() => client.destroy())
    client.write(handshakeRequest({ path: '/ws', ...bad.spec }))
    const response = await client.readResponse()
    t.equal(response.statusCode, bad.status)
    for (const [name, value] of Object.entries(bad.headers ?? {})) t.equal(response.headers[name], value, `${name}: ${value}`)
    t.equal(response.headers['sec-websocket-accept'], undefined)
    t.equal(response.headers.connection?.toLowerCase(), 'close', 'Connection: close announces the close')
    const body = JSON.parse(response.body.toString()) as { statusCode: number, message: string }
    t.equal(body.statusCode, bad.status, 'a JSON error body')
    t.ok(body.message.length > 0, `with a reason: ${body.message}`)
    await client.waitClosed()
    t.equal(handlerCalled, false, 'the websocket handler never ran')
  })
}

t.test('Connection without the upgrade token is not an upgrade: plain HTTP gets 426', async (t) => {
  // Node only emits 'upgrade' when Connection lists "upgrade" (RFC 9110 §7.8); otherwise the
  // request is plain HTTP, and a websocket-only route answers 426.
  const { port } = await buildApp(t)
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/echo', headers: { Connection: 'keep-alive' } }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 426)
  t.equal(response.headers.upgrade, 'websocket')
})

t.test('an HTTP/1.0 upgrade request is refused with a 4xx and the socket is closed', async (t) => {
  // Node emits 'upgrade' for HTTP/1.0 too; RFC 6455 §4.2.1 item 1 requires HTTP/1.1 or later.
  const { port } = await buildApp(t)
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/echo', httpVersion: '1.0' }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 400)
  await client.waitClosed()
})

t.test('a frame sent in the same packet as the handshake (the upgrade head) is parsed and echoed', async (t) => {
  const { port } = await buildApp(t)
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(Buffer.concat([handshakeRequest({ path: '/echo' }), buildFrame({ opcode: OP.TEXT, payload: 'in the head' })]))
  const response = await client.readResponse()
  t.equal(response.statusCode, 101)
  const frame = await client.readFrame()
  t.equal(frame.opcode, OP.TEXT)
  t.equal(frame.payload.toString(), 'in the head')
})

t.test('a frame split between the head and later packets is reassembled', async (t) => {
  const { port } = await buildApp(t)
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  const frame = buildFrame({ opcode: OP.TEXT, payload: 'split across the upgrade boundary' })
  client.write(Buffer.concat([handshakeRequest({ path: '/echo' }), frame.subarray(0, 5)]))
  t.equal((await client.readResponse()).statusCode, 101)
  client.write(frame.subarray(5))
  t.equal((await client.readFrame()).payload.toString(), 'split across the upgrade boundary')
})

t.test('the client leaving during the handshake does not crash or leak', async (t) => {
  const { port, app } = await buildApp(t, {
    setup (app) {
      app.get('/slow', {
        websocket: true,
        preHandler: async () => { await sleep(100) }
      }, () => {})
    }
  })
  const client = await RawClient.connect(port)
  client.write(handshakeRequest({ path: '/slow' }))
  await sleep(20)
  client.socket.resetAndDestroy()
  await sleep(200)
  t.equal(app.websocketServer.clients.size, 0)
  // The server still works.
  const { client: other } = await RawClient.open(port, '/echo')
  t.teardown(() => other.destroy())
  other.write(buildFrame({ opcode: OP.TEXT, payload: 'alive' }))
  t.equal((await other.readFrame()).payload.toString(), 'alive')
})
