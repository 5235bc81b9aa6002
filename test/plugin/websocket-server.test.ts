/**
 * `app.websocketServer` has the part of `ws`'s WebSocketServer that @fastify/websocket code
 * uses (issue 10): the `clients` Set, `on('connection', (socket, request))` and `close()` with
 * `ws` 8's semantics for a server without its own HTTP server (no new upgrades, open sockets
 * left alone, 'close' once the last one has gone), next to this plugin's `drain` and `publish`.
 */
import type { IncomingMessage } from 'node:http'
import t from 'tap'
import { WebSocket } from '../../src/index.js'
import { buildApp, closeEvent, nextMessage, openWs } from '../helpers/app.js'
import { deferred, sleep, withTimeout } from '../helpers/wait.js'
import { captureLogs } from '../helpers/logs.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'

t.test('connection: (socket, raw request), before the handler runs', async (t) => {
  const order: string[] = []
  const seen = deferred<{ socket: unknown, request: IncomingMessage }>()
  const { app, wsUrl } = await buildApp(t, {
    setup (app) {
      app.websocketServer.on('connection', (socket, request) => {
        order.push('connection')
        seen.resolve({ socket, request })
        socket.send('from the connection listener')
      })
      app.get('/c', { websocket: true }, (socket) => {
        order.push('handler')
        socket.send('from the handler')
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/c?x=1`)
  t.equal((await nextMessage(client)).data.toString(), 'from the connection listener')
  t.equal((await nextMessage(client)).data.toString(), 'from the handler')
  const { socket, request } = await seen.wait()
  t.type(socket, WebSocket)
  t.ok(app.websocketServer.clients.has(socket as WebSocket), 'already in clients')
  t.equal(request.url, '/c?x=1', 'the raw IncomingMessage, as ws gives it')
  t.equal(typeof request.headers, 'object')
  t.same(order, ['connection', 'handler'])
})

t.test('a connection listener that throws is logged; the socket and its handler go on', async (t) => {
  const logs = captureLogs()
  const { wsUrl } = await buildApp(t, {
    fastify: { logger: { level: 'error', stream: logs.stream } },
    setup (app) {
      app.websocketServer.on('connection', () => { throw new Error('listener bug') })
    }
  })
  const client = await openWs(t, `${wsUrl}/echo`)
  client.send('fine')
  t.equal((await nextMessage(client)).data.toString(), 'fine')
  t.ok(logs.lines.some((line) => line.level === 50 && /connection/.test(String(line.msg))))
})

t.test('close(): new upgrades get 503, open sockets stay open, close fires when the last one closes', async (t) => {
  const { app, wsUrl, port } = await buildApp(t)
  const client = await openWs(t, `${wsUrl}/echo`)
  let closed = 0
  const callbackCalled = deferred<unknown>()
  app.websocketServer.on('close', () => { closed++ })
  app.websocketServer.close((error) => callbackCalled.resolve(error))
  t.equal(app.websocketServer.draining, true)

  const raw = await RawClient.connect(port)
  t.teardown(() => raw.destroy())
  raw.write(handshakeRequest({ path: '/echo' }))
  t.equal((await raw.readResponse()).statusCode, 503, 'no new upgrades')

  client.send('still served')
  t.equal((await nextMessage(client)).data.toString(), 'still served', 'the open socket is left alone')
  await sleep(50)
  t.equal(closed, 0, 'not closed while a socket is open')

  client.close(1000)
  await closeEvent(client)
  t.equal(await callbackCalled.wait(), undefined, 'the callback, without an error')
  t.equal(closed, 1)
})

t.test('close() with no sockets: close on the next tick; a second close() gets "The server is not running"', async (t) => {
  const { app } = await buildApp(t)
  const first = deferred<unknown>()
  app.websocketServer.close((error) => first.resolve(error))
  t.equal(await first.wait(), undefined)
  const second = deferred<unknown>()
  app.websocketServer.close((error) => second.resolve(error))
  t.match(await second.wait(), { message: 'The server is not running' })
})

t.test('close() while closing: every callback is called once it has closed', async (t) => {
  const { app, wsUrl } = await buildApp(t)
  const client = await openWs(t, `${wsUrl}/echo`)
  const calls: string[] = []
  app.websocketServer.close(() => calls.push('first'))
  app.websocketServer.close(() => calls.push('second'))
  app.websocketServer.close()
  client.close()
  await withTimeout((async () => { while (calls.length < 2) await sleep(10) })(), 3000, 'callbacks')
  t.same(calls, ['first', 'second'])
})

t.test('app.close() closes the server too, as @fastify/websocket\'s default preClose does', async (t) => {
  const { app, wsUrl } = await buildApp(t)
  await openWs(t, `${wsUrl}/echo`)
  const closed = deferred<void>()
  app.websocketServer.on('close', () => closed.resolve())
  await withTimeout(app.close(), 5000, 'app.close()')
  await closed.wait()
  t.pass('close emitted')
})

t.test('clients is the same Set over the app\'s life, and typed as ws has it', async (t) => {
  const { app, wsUrl } = await buildApp(t)
  const clients = app.websocketServer.clients
  t.type(clients, Set)
  const client = await openWs(t, `${wsUrl}/echo`)
  await sleep(20)
  t.equal(clients.size, 1)
  t.equal(app.websocketServer.clients, clients)
  for (const socket of clients) socket.close(1000)
  await closeEvent(client)
  await sleep(20)
  t.equal(clients.size, 0)
})

t.test('publish is app.publish', async (t) => {
  const { app, wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/sub', { websocket: true }, (socket) => { socket.subscribe('news'); socket.send('subscribed') })
    }
  })
  const client = await openWs(t, `${wsUrl}/sub`)
  t.equal((await nextMessage(client)).data.toString(), 'subscribed')
  t.equal(app.websocketServer.publish('news', 'extra'), 1)
  t.equal((await nextMessage(client)).data.toString(), 'extra')
})
