/**
 * RFC 6455 §4 (opening handshake), server side, plus §7.2.2 (aborting a handshake closes the
 * connection), §8.1 in the handshake, §10.2 (Origin) and §10.7 (invalid handshakes get an HTTP
 * status). Run against the echo app of example-app/echo.js unless a requirement needs a route
 * option (subprotocols) or a hook (Origin).
 */
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { FuzzPeer, expectText, startEchoServer } from '../helpers/conformance.js'
import { OP, clientFrame, computeAccept } from '../helpers/frames.js'
import { RawClient, handshakeRequest, type HandshakeSpec } from '../helpers/raw-client.js'

const port = await startEchoServer(t)

t.test('4.2.2 a valid handshake is answered with 101, Upgrade: websocket, Connection: Upgrade and the accept key', async (t) => {
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  // The sample nonce of RFC 6455 §1.3 / §4.2.2 and its accept value.
  client.write(handshakeRequest({ path: '/', headers: { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 101)
  t.equal(response.headers.upgrade?.toLowerCase(), 'websocket')
  t.same(response.headers.connection?.toLowerCase().split(/\s*,\s*/), ['upgrade'])
  t.equal(response.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
  t.equal(response.headers['sec-websocket-protocol'], undefined, 'no subprotocol header when none was agreed')
  t.equal(response.headers['sec-websocket-extensions'], undefined, 'no extension header')
})

t.test('4.2.1 header names and the Upgrade and Connection tokens are matched case-insensitively', async (t) => {
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  const key = 'AQIDBAUGBwgJCgsMDQ4PEA=='
  client.write(Buffer.from([
    'GET / HTTP/1.1', 'host: 127.0.0.1', 'UPGRADE: WebSocket', 'connection: keep-alive, uPgRaDe',
    `sec-websocket-key: ${key}`, 'SEC-WEBSOCKET-VERSION: 13', '', ''
  ].join('\r\n')))
  const response = await client.readResponse()
  t.equal(response.statusCode, 101)
  t.equal(response.headers['sec-websocket-accept'], computeAccept(key))
  client.write(clientFrame(OP.TEXT, 'case'))
  t.equal((await client.readFrame()).payload.toString(), 'case')
})

t.test('4.2.1 an HTTP/1.1 request with any header order and extra headers is accepted', async (t) => {
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  const key = 'EBESExQVFhcYGRobHB0eHw=='
  client.write(Buffer.from([
    'GET /?x=1 HTTP/1.1', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${key}`, 'Cookie: a=b',
    'Connection: Upgrade', 'Origin: http://example.com', 'Upgrade: websocket', 'Host: 127.0.0.1', '', ''
  ].join('\r\n')))
  const response = await client.readResponse()
  t.equal(response.statusCode, 101)
  t.equal(response.headers['sec-websocket-accept'], computeAccept(key))
})

interface Refusal {
  id: string
  name: string
  spec: HandshakeSpec
  status: number
  header?: [string, string]
}

const REFUSALS: Refusal[] = [
  { id: '4.2.1', name: 'a POST upgrade', spec: { method: 'POST' }, status: 400 },
  { id: '4.2.1', name: 'an HTTP/1.0 upgrade', spec: { httpVersion: '1.0' }, status: 400 },
  { id: '4.2.1', name: 'a request without Host', spec: { headers: { Host: null } }, status: 400 },
  { id: '4.2.1', name: 'Upgrade: h2c instead of websocket', spec: { headers: { Upgrade: 'h2c' } }, status: 400 },
  { id: '4.2.1', name: 'a request without Sec-WebSocket-Key', spec: { headers: { 'Sec-WebSocket-Key': null } }, status: 400 },
  { id: '4.2.1', name: 'a Sec-WebSocket-Key that is not base64', spec: { headers: { 'Sec-WebSocket-Key': '!!!!not-base64!!!!!!!==' } }, status: 400 },
  { id: '4.2.1', name: 'a Sec-WebSocket-Key of 15 bytes', spec: { headers: { 'Sec-WebSocket-Key': Buffer.alloc(15, 7).toString('base64') } }, status: 400 },
  { id: '4.2.1', name: 'a Sec-WebSocket-Key of 17 bytes', spec: { headers: { 'Sec-WebSocket-Key': Buffer.alloc(17, 7).toString('base64') } }, status: 400 },
  { id: '4.2.1', name: 'a request with two Sec-WebSocket-Key headers', spec: { extraLines: [`Sec-WebSocket-Key: ${Buffer.alloc(16, 9).toString('base64')}`] }, status: 400 },
  { id: '4.2.2', name: 'Sec-WebSocket-Version 8', spec: { headers: { 'Sec-WebSocket-Version': '8' } }, status: 426, header: ['sec-websocket-version', '13'] },
  { id: '4.2.2', name: 'Sec-WebSocket-Version 14', spec: { headers: { 'Sec-WebSocket-Version': '14' } }, status: 426, header: ['sec-websocket-version', '13'] },
  { id: '4.2.2', name: 'no Sec-WebSocket-Version', spec: { headers: { 'Sec-WebSocket-Version': null } }, status: 426, header: ['sec-websocket-version', '13'] },
  { id: '4.2.2', name: 'an upgrade to a path with no route', spec: { path: '/nowhere' }, status: 404 },
  { id: '8.1', name: 'a Sec-WebSocket-Protocol that is not a token list (invalid UTF-8 bytes)', spec: { headers: { 'Sec-WebSocket-Protocol': '\xff\xfe' } }, status: 400 },
  { id: '4.2.1', name: 'a Sec-WebSocket-Protocol element that is not a token (chat/1.0)', spec: { headers: { 'Sec-WebSocket-Protocol': 'chat/1.0' } }, status: 400 }
]

for (const r of REFUSALS) {
  t.test(`${r.id} ${r.name} is refused with ${r.status}${r.header === undefined ? '' : ` and ${r.header[0]}: ${r.header[1]}`}, then the connection is closed`, async (t) => {
    const client = await RawClient.connect(port)
    t.teardown(() => client.destroy())
    client.write(handshakeRequest({ path: '/', ...r.spec }))
    const response = await client.readResponse()
    t.equal(response.statusCode, r.status, `status ${r.status}`)
    if (r.header !== undefined) t.equal(response.headers[r.header[0]], r.header[1])
    t.equal(response.headers['sec-websocket-accept'], undefined, 'no accept key')
    // §7.2.2: aborting the handshake closes the connection; nothing is parsed as frames.
    client.write(clientFrame(OP.TEXT, 'not a websocket'))
    await client.waitClosed()
    t.pass('the server closed the connection')
  })
}

t.test('4.2.1 Connection without the Upgrade token is not an upgrade: 426 Upgrade Required with Upgrade: websocket', async (t) => {
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ headers: { Connection: 'keep-alive' } }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 426)
  t.equal(response.headers.upgrade, 'websocket')
  t.equal(response.headers['sec-websocket-accept'], undefined, 'no upgrade happened')
})

t.test('4.2.2 extension offers are declined: no Sec-WebSocket-Extensions in the 101, frames are uncompressed', async (t) => {
  const { client, response } = await RawClient.open(port, '/', {
    headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits, x-webkit-deflate-frame' }
  })
  t.teardown(() => client.destroy())
  t.equal(response.headers['sec-websocket-extensions'], undefined)
  client.write(clientFrame(OP.TEXT, 'plain'))
  const f = await client.readFrame()
  t.same([f.rsv1, f.rsv2, f.rsv3, f.payload.toString()], [false, false, false, 'plain'])
})

t.test('4.2.2 the subprotocol is one the client offered, and no header is sent when none is agreed', async (t) => {
  const { port: subPort } = await buildApp(t, {
    plugin: { protocols: ['v2', 'v1'] },
    noEcho: true,
    setup (app) {
      app.get('/', { websocket: true }, (socket) => { socket.send(socket.protocol) })
    }
  })
  const agreed = await RawClient.open(subPort, '/', { headers: { 'Sec-WebSocket-Protocol': 'v1, v2, v3' } })
  t.teardown(() => agreed.client.destroy())
  t.equal(agreed.response.headers['sec-websocket-protocol'], 'v2', 'one value, from the client list')
  t.equal((await agreed.client.readFrame()).payload.toString(), 'v2')
  const none = await RawClient.open(subPort, '/', { headers: { 'Sec-WebSocket-Protocol': 'v9' } })
  t.teardown(() => none.client.destroy())
  t.equal(none.response.headers['sec-websocket-protocol'], undefined, 'no header when the server agrees to none')
  t.equal((await none.client.readFrame()).payload.toString(), '')
  const absent = await RawClient.open(subPort, '/')
  t.teardown(() => absent.client.destroy())
  t.equal(absent.response.headers['sec-websocket-protocol'], undefined, 'no header when none was offered')
})

t.test('4.2.2 / 10.2 an Origin the server does not accept is refused with 403 before any upgrade', async (t) => {
  let upgraded = 0
  const { port: originPort } = await buildApp(t, {
    noEcho: true,
    setup (app) {
      app.addHook('onRequest', async (request, reply) => {
        if (request.headers.origin !== 'https://good.example') return await reply.code(403).send({ error: 'origin not allowed' })
      })
      app.get('/', { websocket: true }, (socket) => { upgraded++; socket.send('welcome') })
    }
  })
  const bad = await RawClient.connect(originPort)
  t.teardown(() => bad.destroy())
  bad.write(handshakeRequest({ headers: { Origin: 'https://evil.example' } }))
  const refused = await bad.readResponse()
  t.equal(refused.statusCode, 403)
  t.equal(refused.headers['sec-websocket-accept'], undefined)
  await bad.waitClosed()
  t.equal(upgraded, 0, 'the websocket handler never ran')
  const good = await RawClient.open(originPort, '/', { headers: { Origin: 'https://good.example' } })
  t.teardown(() => good.client.destroy())
  t.equal((await good.client.readFrame()).payload.toString(), 'welcome')
  t.equal(upgraded, 1)
})

t.test('4.2.2 frames sent right after the request, in the same packet, are parsed after the 101', async (t) => {
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(Buffer.concat([handshakeRequest(), clientFrame(OP.TEXT, 'early'), clientFrame(OP.PING, 'p')]))
  const response = await client.readResponse()
  t.equal(response.statusCode, 101)
  const peer = FuzzPeer.wrap(t, client)
  await peer.expectFrames([expectText('early'), { opcode: OP.PONG, payload: 'p' }])
  await peer.closeNormally()
})
