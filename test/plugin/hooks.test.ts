/**
 * Fastify hooks run before the upgrade: a hook's reply is a real HTTP response on the raw
 * socket, headers set by hooks reach the 101, and `request.ws` tells hooks what they see.
 */
import t from 'tap'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { buildApp, openWs } from '../helpers/app.js'
import { deferred, sleep } from '../helpers/wait.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'
import { buildFrame, computeAccept, OP } from '../helpers/frames.js'

for (const hook of ['onRequest', 'preValidation', 'preHandler'] as const) {
  t.test(`a ${hook} hook that replies 401 sends a real HTTP 401 and no upgrade happens`, async (t) => {
    let handlerCalled = false
    const { port, app } = await buildApp(t, {
      setup (app) {
        app.get('/private', {
          websocket: true,
          [hook]: async (request: FastifyRequest, reply: FastifyReply) => {
            if (request.headers.authorization !== 'Bearer good') {
              await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' })
            }
          }
        }, (socket) => {
          handlerCalled = true
          socket.send('welcome')
        })
      }
    })

    const client = await RawClient.connect(port)
    t.teardown(() => client.destroy())
    client.write(handshakeRequest({ path: '/private' }))
    const response = await client.readResponse()
    t.equal(response.statusCode, 401)
    t.equal(response.statusMessage, 'Unauthorized')
    t.equal(response.headers['www-authenticate'], 'Bearer')
    t.match(response.headers['content-type'], /^application\/json/)
    t.same(JSON.parse(response.body.toString()), { error: 'unauthorized' })
    t.equal(response.headers['sec-websocket-accept'], undefined)
    t.equal(response.headers.upgrade, undefined)
    await client.waitClosed()
    t.equal(client.pending.length, 0, 'nothing after the response')
    t.equal(handlerCalled, false)
    t.equal(app.websocketServer.clients.size, 0)

    // With the right credentials the same route upgrades.
    const ok = await RawClient.open(port, '/private', { headers: { Authorization: 'Bearer good' } })
    t.teardown(() => ok.client.destroy())
    t.equal(ok.response.statusCode, 101)
    const welcome = await ok.client.readFrame()
    t.equal(welcome.payload.toString(), 'welcome')
  })
}

t.test('a global onRequest hook can refuse an upgrade; the ws client sees the 401', async (t) => {
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.addHook('onRequest', async (request, reply) => {
        if (request.ws && request.url.startsWith('/echo')) await reply.code(401).send('no')
      })
    }
  })
  const { default: WsClient } = await import('ws')
  const client = new WsClient(`${wsUrl}/echo`)
  t.teardown(() => client.terminate())
  const status = deferred<number>()
  client.on('unexpected-response', (_request, response) => status.resolve(response.statusCode ?? 0))
  client.on('error', () => {})
  t.equal(await status.wait(), 401)
})

t.test('a hook that throws gives a 500 on the raw socket, then it is closed', async (t) => {
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/boom', {
        websocket: true,
        preValidation: async () => { throw new Error('hook failed') }
      }, () => {})
    }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/boom' }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 500)
  await client.waitClosed()
})

t.test('headers set by a preHandler hook appear in the 101; the handshake headers cannot be overridden', async (t) => {
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/cookie', {
        websocket: true,
        preHandler: async (_request, reply) => {
          reply.header('set-cookie', 'a=b')
          reply.header('set-cookie', 'c=d; HttpOnly')
          reply.header('x-custom', 'yes')
          reply.header('sec-websocket-accept', 'forged')
          reply.header('connection', 'close')
        }
      }, (socket) => socket.close(1000))
    }
  })
  const key = Buffer.alloc(16, 9).toString('base64')
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/cookie', headers: { 'Sec-WebSocket-Key': key } }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 101)
  t.same(response.setCookie, ['a=b', 'c=d; HttpOnly'], 'both cookies, as separate header lines')
  t.equal(response.headers['x-custom'], 'yes')
  t.equal(response.headers['sec-websocket-accept'], computeAccept(key), 'one accept header, the right one')
  t.equal(response.headers.connection, 'Upgrade', 'one Connection header')
  t.equal(response.rawHeaders.filter(([name]) => name.toLowerCase() === 'connection').length, 1)
  t.equal((await client.readClose()).code, 1000)
})

t.test('request.ws is true in every hook for upgrades and false for plain HTTP', async (t) => {
  const seen: Array<[string, string, boolean]> = []
  const { port, httpUrl } = await buildApp(t, {
    setup (app) {
      for (const hook of ['onRequest', 'preValidation', 'preHandler'] as const) {
        app.addHook(hook, async (request) => { seen.push([hook, request.url, request.ws]) })
      }
      app.get('/plain', async () => 'plain')
    }
  })
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  const res = await fetch(`${httpUrl}/plain`)
  t.equal(await res.text(), 'plain')
  t.same(seen, [
    ['onRequest', '/echo', true],
    ['preValidation', '/echo', true],
    ['preHandler', '/echo', true],
    ['onRequest', '/plain', false],
    ['preValidation', '/plain', false],
    ['preHandler', '/plain', false]
  ])
})

t.test('route params, query, headers and hook decorations reach the websocket handler', async (t) => {
  const seen = deferred<unknown>()
  const { port } = await buildApp(t, {
    setup (app) {
      app.decorateRequest('user', null)
      app.addHook('preHandler', async (request) => {
        (request as unknown as { user: string }).user = 'from-hook'
      })
      app.get<{ Params: { room: string }, Querystring: { name: string } }>('/rooms/:room', { websocket: true }, (socket, request) => {
        seen.resolve({
          room: request.params.room,
          name: request.query.name,
          header: request.headers['x-client'],
          user: (request as unknown as { user: string }).user,
          ws: request.ws
        })
        socket.close(1000)
      })
    }
  })
  const { client } = await RawClient.open(port, '/rooms/lobby?name=ann', { headers: { 'X-Client': 'raw' } })
  t.teardown(() => client.destroy())
  t.same(await seen.wait(), { room: 'lobby', name: 'ann', header: 'raw', user: 'from-hook', ws: true })
})

t.test('a slow async hook holds frames sent with the handshake until the handler runs', async (t) => {
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/slow', {
        websocket: true,
        onRequest: async () => { await sleep(50) }
      }, (socket) => {
        socket.on('message', (data) => socket.send(`late ${String(data)}`))
      })
    }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(Buffer.concat([handshakeRequest({ path: '/slow' }), buildFrame({ opcode: OP.TEXT, payload: 'early' })]))
  await sleep(10)
  client.write(buildFrame({ opcode: OP.TEXT, payload: 'during hook' }))
  t.equal((await client.readResponse()).statusCode, 101)
  t.equal((await client.readFrame()).payload.toString(), 'late early')
  t.equal((await client.readFrame()).payload.toString(), 'late during hook')
})

t.test('the ws client works through hooks (end-to-end sanity)', async (t) => {
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.addHook('onRequest', async () => {})
      app.addHook('preHandler', async (_request, reply) => { reply.header('x-through', 'hooks') })
    }
  })
  const headers = deferred<Record<string, unknown>>()
  const { default: WsClient } = await import('ws')
  const client = new WsClient(`${wsUrl}/echo`)
  t.teardown(() => client.terminate())
  client.on('upgrade', (response) => headers.resolve(response.headers))
  t.equal((await headers.wait())['x-through'], 'hooks')
  await openWs(t, `${wsUrl}/echo`)
})
