/**
 * Regression (issue 9, item 8): `injectWS` dropped the caller's `host` header (routes with a
 * host constraint answered 404), and did not work on `Fastify({ https })` (the in-memory stream
 * reached the TLS server's 'connection' path, which starts a TLS handshake).
 */
import t from 'tap'
import Fastify from 'fastify'
import websocket from '../../src/index.js'
import { once } from '../helpers/wait.js'
import { CERT, KEY } from '../helpers/tls.js'

t.test('a host header reaches routing: host-constrained routes upgrade', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket)
  app.get('/tenant', { websocket: true, constraints: { host: 'tenant.example' } }, (socket, request) => {
    socket.send(`host ${request.headers.host ?? ''}`)
  })
  const socket = await app.injectWS('/tenant', { headers: { Host: 'tenant.example' } })
  t.teardown(() => socket.terminate())
  const [data] = await once<[Buffer]>(socket, 'message')
  t.equal(data.toString(), 'host tenant.example')
  const refused = await app.injectWS('/tenant').catch((error: unknown) => error)
  t.match(refused, { statusCode: 404 }, 'the default host (localhost) does not match the constraint')
})

t.test('injectWS works on an https app', async (t) => {
  const app = Fastify({ https: { key: KEY, cert: CERT } })
  t.teardown(() => app.close())
  await app.register(websocket)
  app.get('/secure', { websocket: true }, (socket, request) => {
    socket.send(`protocol ${request.protocol}`)
    socket.on('message', (data) => socket.send(data))
  })
  const socket = await app.injectWS('/secure')
  t.teardown(() => socket.terminate())
  const [first] = await once<[Buffer]>(socket, 'message')
  t.equal(first.toString(), 'protocol https', 'the request looks like the HTTPS request it stands for')
  socket.send('echo')
  const [echo] = await once<[Buffer]>(socket, 'message')
  t.equal(echo.toString(), 'echo')
})
