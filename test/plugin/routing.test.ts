/**
 * Routing of upgrades and plain requests: 404 for unknown paths, 426 for plain HTTP on a
 * websocket-only route, `handler` + `wsHandler` routes (HEAD served by the HTTP handler),
 * prefixes, and other 'upgrade' listeners on the same server left alone. (HEAD on a
 * websocket-only route: test/regressions/head-request-ran-the-websocket-handler.test.ts.)
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import t from 'tap'
import { buildApp, nextMessage, openWs } from '../helpers/app.js'
import { deferred, sleep } from '../helpers/wait.js'
import { RawClient, handshakeRequest, plainRequest } from '../helpers/raw-client.js'
import { buildFrame, OP } from '../helpers/frames.js'

t.test('an upgrade to an unknown path gets 404 and the socket is closed', async (t) => {
  const { port } = await buildApp(t)
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/nowhere' }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 404)
  t.equal(response.headers['sec-websocket-accept'], undefined)
  t.equal(JSON.parse(response.body.toString()).statusCode, 404)
  await client.waitClosed()
})

t.test('an upgrade to a plain HTTP route is not upgraded, and the socket is closed after the answer', async (t) => {
  // RFC 9110 §7.8 lets a server ignore Upgrade and answer normally, which is what Node does
  // when no 'upgrade' listener exists: the GET is served as plain HTTP. It must not become a
  // WebSocket, and the raw socket must not be left open.
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/plain', async () => 'plain')
    }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/plain' }))
  const response = await client.readResponse()
  t.not(response.statusCode, 101)
  t.equal(response.headers['sec-websocket-accept'], undefined)
  await client.waitClosed()
})

t.test('plain HTTP GET to a websocket-only route gets 426 with Upgrade: websocket', async (t) => {
  let called = false
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/only-ws', { websocket: true }, () => { called = true })
    }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(plainRequest('GET', '/only-ws'))
  const response = await client.readResponse()
  t.equal(response.statusCode, 426)
  t.equal(response.headers.upgrade, 'websocket')
  t.equal(JSON.parse(response.body.toString()).statusCode, 426)
  t.equal(called, false, 'the websocket handler did not run')
})

t.test('app.route with handler and wsHandler: HTTP gets handler, WebSocket gets wsHandler', async (t) => {
  const { port, httpUrl, wsUrl } = await buildApp(t, {
    setup (app) {
      app.route({
        method: 'GET',
        url: '/both',
        handler: async (request) => ({ via: 'http', ws: request.ws }),
        wsHandler: (socket, request) => {
          socket.send(JSON.stringify({ via: 'ws', ws: request.ws }))
        }
      })
    }
  })
  const res = await fetch(`${httpUrl}/both`)
  t.equal(res.status, 200)
  t.same(await res.json(), { via: 'http', ws: false })

  const head = await RawClient.connect(port)
  t.teardown(() => head.destroy())
  head.write(plainRequest('HEAD', '/both'))
  t.equal((await head.readResponse(undefined, { noBody: true })).statusCode, 200, 'HEAD is served by the HTTP handler')

  const client = await openWs(t, `${wsUrl}/both`)
  const message = await nextMessage(client)
  t.same(JSON.parse(message.data.toString()), { via: 'ws', ws: true })
})

t.test('websocket routes inside a prefixed plugin', async (t) => {
  const { wsUrl } = await buildApp(t, {
    async setup (app) {
      await app.register(async (child) => {
        child.get('/ws', { websocket: true }, (socket) => socket.close(4000, 'prefixed'))
      }, { prefix: '/api' })
      // Another upgrade listener exists, so only paths the plugin knows are claimed.
      app.server.on('upgrade', () => {})
    }
  })
  const client = await openWs(t, `${wsUrl}/api/ws`)
  const closed = deferred<number>()
  client.on('close', (code) => closed.resolve(code))
  t.equal(await closed.wait(), 4000)
})

t.test('another upgrade listener keeps its own upgrades', async (t) => {
  const otherSaw: string[] = []
  const { port, wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/rooms/:id', { websocket: true }, (socket, request) => {
        socket.send(`room ${(request.params as { id: string }).id}`)
      })
      // Like a dev server, the other listener owns every upgrade it sees and closes them
      // when the app closes; app.close() would wait for them otherwise.
      const owned = new Set<Duplex>()
      app.addHook('preClose', async () => { for (const socket of owned) socket.destroy() })
      app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        otherSaw.push(request.url ?? '')
        if (request.url?.startsWith('/rooms/') === true) return
        owned.add(socket)
        if (request.url !== '/other') return
        // A different protocol entirely: a line-based echo after a custom 101.
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: custom\r\nConnection: Upgrade\r\nX-Handled-By: other\r\n\r\n')
        if (head.length > 0) socket.write(head)
        socket.on('data', (chunk: Buffer) => socket.write(chunk))
        socket.on('error', () => {})
      })
    }
  })

  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(`GET /other HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: custom\r\nConnection: Upgrade\r\n\r\nraw-in-head`)
  const response = await client.readResponse()
  t.equal(response.statusCode, 101)
  t.equal(response.headers['x-handled-by'], 'other')
  t.equal(response.headers['sec-websocket-accept'], undefined)
  // Bytes that are not WebSocket frames come back untouched: nobody parsed them as frames.
  client.write(Buffer.from([0x00, 0xff, 0x81]))
  await sleep(50)
  t.same([...client.pending], [...Buffer.from('raw-in-head'), 0x00, 0xff, 0x81])
  t.equal(client.closed, false, 'the other listener\'s socket stays open')

  // A websocket upgrade for an unknown path is left to the other listener: no 404 from us.
  const stray = await RawClient.connect(port)
  t.teardown(() => stray.destroy())
  stray.write(handshakeRequest({ path: '/unclaimed' }))
  await sleep(150)
  t.equal(stray.pending.length, 0, 'the plugin wrote nothing')
  t.equal(stray.closed, false, 'the plugin did not close it')

  // Our own routes, with params, still work next to it.
  const ws = await openWs(t, `${wsUrl}/rooms/42`)
  t.equal((await nextMessage(ws)).data.toString(), 'room 42')
  t.same(otherSaw, ['/other', '/unclaimed', '/rooms/42'], 'the other listener saw every upgrade')
})

t.test('with another upgrade listener, route matching follows Fastify options (ignoreTrailingSlash)', async (t) => {
  const { port } = await buildApp(t, {
    fastify: { routerOptions: { ignoreTrailingSlash: true } },
    setup (app) {
      app.server.on('upgrade', () => {})
    }
  })
  const { client } = await RawClient.open(port, '/echo/')
  t.teardown(() => client.destroy())
  client.write(buildFrame({ opcode: OP.TEXT, payload: 'trailing' }))
  t.equal((await client.readFrame()).payload.toString(), 'trailing')
})
