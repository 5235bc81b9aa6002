import t from 'tap'
import Fastify from 'fastify'
import websocket from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { sleep } from '../helpers/wait.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'
import { OP, buildFrame } from '../helpers/frames.js'

t.test('a client that sends its handshake one byte at a time is cut off after handshakeTimeout', async (t) => {
  const { port } = await buildApp(t, { plugin: { handshakeTimeout: 400 } })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  const request = handshakeRequest({ path: '/echo' })
  const started = Date.now()
  let sent = 0
  while (!client.closed && sent < request.length && Date.now() - started < 3000) {
    client.write(request.subarray(sent, sent + 1))
    sent++
    await sleep(50)
  }
  await client.waitClosed(3000)
  const elapsed = Date.now() - started
  t.ok(sent < request.length, `closed before the request was complete (${sent}/${request.length} bytes)`)
  t.ok(elapsed >= 350, `not before the timeout (${elapsed} ms)`)
  t.ok(elapsed < 2000, `soon after it (${elapsed} ms)`)
})

t.test('an upgrade stuck in a hook is cut off; the app still closes', async (t) => {
  let hookEntered = false
  const { port, app } = await buildApp(t, {
    plugin: { handshakeTimeout: 300 },
    setup (app) {
      app.get('/stuck', {
        websocket: true,
        preHandler: async () => { hookEntered = true; await new Promise(() => {}) }
      }, () => {})
    }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/stuck' }))
  await client.waitClosed(3000)
  t.ok(hookEntered, 'the hook ran')
  t.equal(app.websocketServer.clients.size, 0, 'no socket was opened')
})

t.test('an open WebSocket outlives handshakeTimeout', async (t) => {
  const { port } = await buildApp(t, { plugin: { handshakeTimeout: 200 } })
  const { client, response } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  t.equal(response.statusCode, 101)
  await sleep(500)
  t.notOk(client.closed, 'still open after the handshake timeout')
  client.write(buildFrame({ opcode: OP.TEXT, payload: 'still here' }))
  const frame = await client.readFrame()
  t.equal(frame.payload.toString(), 'still here')
})

t.test('a plain keep-alive HTTP connection is not affected', async (t) => {
  const { port } = await buildApp(t, {
    plugin: { handshakeTimeout: 200 },
    setup (app) { app.get('/plain', async () => ({ ok: true })) }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  const get = 'GET /plain HTTP/1.1\r\nHost: x\r\n\r\n'
  client.write(get)
  t.equal((await client.readResponse()).statusCode, 200)
  await sleep(500)
  t.notOk(client.closed, 'the idle keep-alive connection is still open')
  client.write(get)
  t.equal((await client.readResponse()).statusCode, 200)
})

t.test('handshakeTimeout: Infinity disables it; invalid values fail register', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket, { handshakeTimeout: Infinity })
  await app.ready()
  t.equal(app.server.listenerCount('connection'), 1, 'no connection listener added (only Node\'s own)')
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    const other = Fastify()
    await t.rejects(async () => { await other.register(websocket, { handshakeTimeout: bad }) }, { code: 'FST_WS_INVALID_OPTION' })
  }
})
