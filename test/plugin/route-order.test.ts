/**
 * The route-ordering rule the README states next to the quick start (issue 10): websocket
 * routes are declared after `await app.register(websocket)`. One declared before is an
 * ordinary route whose handler gets `(request, reply)`: an upgrade to it answers 500
 * (`socket.on is not a function`), as with @fastify/websocket. Routes in a plugin registered
 * after it (the CommonJS idiom, without `await`) are websocket routes.
 */
import t from 'tap'
import Fastify from 'fastify'
import websocket from '../../src/index.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'
import { closeEvent, openWs } from '../helpers/app.js'
import { withTimeout } from '../helpers/wait.js'

t.test('a websocket route declared before register is not one: an upgrade answers 500', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => withTimeout(app.close(), 5000, 'app.close()'))
  app.get('/early', { websocket: true }, (socket) => { socket.on('message', () => {}) })
  await app.register(websocket)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/early' }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 500)
  t.match(JSON.parse(response.body.toString()), { message: /socket\.on is not a function/ })
})

t.test('routes in a plugin registered after it, without await, are websocket routes', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => withTimeout(app.close(), 5000, 'app.close()'))
  app.register(websocket)
  app.register(async (app) => {
    app.get('/late', { websocket: true }, (socket) => { socket.close(4000, 'websocket route') })
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const client = await openWs(t, `ws://127.0.0.1:${port}/late`)
  t.same(await closeEvent(client), { code: 4000, reason: 'websocket route' })
})
