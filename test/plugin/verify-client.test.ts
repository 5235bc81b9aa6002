/**
 * `options.verifyClient` (issue 10): @fastify/websocket apps authenticate there (mercurius
 * documents it), and before this it was silently skipped, so every client was accepted. It now
 * runs as `ws` runs it: after the route's hooks and the handshake checks, with `ws`'s `info`
 * (`origin`, `secure`, `req`), in its synchronous form (falsy: 401) or its callback form
 * (`callback(result, code?, name?, headers?)`, told apart by its two parameters).
 */
import https from 'node:https'
import t from 'tap'
import Fastify from 'fastify'
import WsClient from 'ws'
import websocket, { type VerifyClientInfo } from '../../src/index.js'
import { buildApp, nextMessage, openWs } from '../helpers/app.js'
import { deferred, sleep, withTimeout, until } from '../helpers/wait.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'
import { CERT, KEY } from '../helpers/tls.js'

/** Opens a raw handshake and returns the response (the socket is destroyed at teardown). */
async function handshake (t: { teardown: (fn: () => unknown) => void }, port: number, path: string, headers: Record<string, string | null> = {}) {
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path, headers }))
  const response = await client.readResponse()
  return { client, response }
}

t.test('sync verifyClient: true upgrades, false refuses with 401 and the handler never runs', async (t) => {
  const seen: VerifyClientInfo[] = []
  let handlerCalls = 0
  const { port, wsUrl } = await buildApp(t, {
    plugin: {
      options: {
        verifyClient (info: VerifyClientInfo) {
          seen.push(info)
          return info.req.headers['x-fastify-header'] === 'fastify is awesome !'
        }
      }
    },
    setup (app) {
      app.get('/ws', { websocket: true }, (socket) => {
        handlerCalls++
        socket.send('welcome')
      })
    }
  })
  const refused = await handshake(t, port, '/ws', { Origin: 'https://app.example' })
  t.equal(refused.response.statusCode, 401)
  t.match(JSON.parse(refused.response.body.toString()), { statusCode: 401, error: 'Unauthorized' })
  await refused.client.waitClosed()
  t.equal(handlerCalls, 0)
  t.equal(seen[0].origin, 'https://app.example', 'info.origin is the Origin header')
  t.equal(seen[0].secure, false, 'plain TCP is not secure')
  t.equal(seen[0].req.url, '/ws', 'info.req is the raw request')

  const accepted = await openWs(t, `${wsUrl}/ws`, undefined, { headers: { 'x-fastify-header': 'fastify is awesome !' } })
  t.equal((await nextMessage(accepted)).data.toString(), 'welcome')
  t.equal(seen[1].origin, undefined, 'no Origin header, no origin')
})

t.test('callback verifyClient: callback(true) upgrades, callback(false) refuses with 401', async (t) => {
  const { port, wsUrl } = await buildApp(t, {
    plugin: {
      options: {
        verifyClient (info: VerifyClientInfo, next: (ok: boolean) => void) {
          setTimeout(() => next(info.req.headers.authorization === 'Bearer ok'), 10)
        }
      }
    }
  })
  t.equal((await handshake(t, port, '/echo')).response.statusCode, 401)
  const client = await openWs(t, `${wsUrl}/echo`, undefined, { headers: { authorization: 'Bearer ok' } })
  client.send('in')
  t.equal((await nextMessage(client)).data.toString(), 'in')
})

t.test('callback verifyClient: callback(false, code, name, headers) refuses with those', async (t) => {
  const { port } = await buildApp(t, {
    plugin: {
      options: {
        verifyClient (_info: VerifyClientInfo, next: (ok: boolean, code?: number, name?: string, headers?: Record<string, string>) => void) {
          next(false, 403, 'token expired', { 'x-reason': 'expired', 'Retry-After': '10' })
        }
      }
    }
  })
  const { response, client } = await handshake(t, port, '/echo')
  t.equal(response.statusCode, 403)
  t.equal(response.headers['x-reason'], 'expired')
  t.equal(response.headers['retry-after'], '10')
  t.match(JSON.parse(response.body.toString()), { statusCode: 403, error: 'Forbidden', message: 'token expired' })
  await client.waitClosed()
})

t.test('callback verifyClient with its own content-type: the message is the body, as ws sends it', async (t) => {
  const { port } = await buildApp(t, {
    plugin: {
      options: {
        verifyClient (_info: VerifyClientInfo, next: (ok: boolean, code?: number, name?: string, headers?: Record<string, string>) => void) {
          next(false, 401, 'who are you?', { 'Content-Type': 'text/plain', 'Content-Length': '999' })
        }
      }
    }
  })
  const { response } = await handshake(t, port, '/echo')
  t.equal(response.statusCode, 401)
  t.match(response.headers['content-type'], /^text\/plain/)
  t.equal(response.body.toString(), 'who are you?', 'Fastify sized the body itself')
})

t.test('a ws client sees the refusal as ws reports it', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { options: { verifyClient: () => false } } })
  const client = new WsClient(`${wsUrl}/echo`)
  const [error] = await withTimeout(new Promise<[Error]>((resolve) => client.once('error', (error) => resolve([error]))), 3000, 'ws error')
  t.equal(error.message, 'Unexpected server response: 401')
})

t.test('verifyClient runs after the route\'s hooks, and only for websocket routes', async (t) => {
  const order: string[] = []
  const { port, httpUrl } = await buildApp(t, {
    plugin: {
      options: {
        verifyClient (info: VerifyClientInfo) {
          order.push(`verifyClient ${String(info.req.headers['x-step'])}`)
          return true
        }
      }
    },
    setup (app) {
      app.addHook('onRequest', async (request) => { order.push('onRequest'); request.raw.headers['x-step'] = 'after hooks' })
      app.addHook('preHandler', async () => { order.push('preHandler') })
      app.get('/http', async () => 'plain')
    }
  })
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  t.same(order, ['onRequest', 'preHandler', 'verifyClient after hooks'])
  order.length = 0
  t.equal(await (await fetch(`${httpUrl}/http`)).text(), 'plain')
  t.same(order, ['onRequest', 'preHandler'], 'not asked about plain HTTP')
})

t.test('a hook that refuses first: verifyClient is not asked', async (t) => {
  let asked = false
  const { port } = await buildApp(t, {
    plugin: { options: { verifyClient: () => { asked = true; return true } } },
    setup (app) {
      app.addHook('onRequest', async (_request, reply) => reply.code(418).send('no'))
    }
  })
  t.equal((await handshake(t, port, '/echo')).response.statusCode, 418)
  t.equal(asked, false)
})

t.test('an invalid handshake is refused for what it is (400/426), before verifyClient', async (t) => {
  let asked = false
  const { port } = await buildApp(t, { plugin: { options: { verifyClient: () => { asked = true; return false } } } })
  t.equal((await handshake(t, port, '/echo', { 'Sec-WebSocket-Key': null })).response.statusCode, 400)
  t.equal((await handshake(t, port, '/echo', { 'Sec-WebSocket-Version': '8' })).response.statusCode, 426)
  t.equal(asked, false)
})

t.test('verifyClient that throws, or rejects, answers 500; a second callback is ignored', async (t) => {
  const { port, wsUrl } = await buildApp(t, {
    plugin: {
      options: {
        verifyClient (info: VerifyClientInfo, next: (ok: boolean, code?: number) => void): void | Promise<void> {
          const mode = info.req.headers['x-mode']
          if (mode === 'throw') throw new Error('sync boom')
          if (mode === 'reject') return Promise.reject(new Error('async boom'))
          next(true)
          next(false, 403)
        }
      }
    }
  })
  t.equal((await handshake(t, port, '/echo', { 'x-mode': 'throw' })).response.statusCode, 500)
  t.equal((await handshake(t, port, '/echo', { 'x-mode': 'reject' })).response.statusCode, 500)
  const client = await openWs(t, `${wsUrl}/echo`)
  client.send('first answer counts')
  t.equal((await nextMessage(client)).data.toString(), 'first answer counts')
})

t.test('a callback that never comes is bounded by handshakeTimeout', async (t) => {
  const { port } = await buildApp(t, {
    plugin: { handshakeTimeout: 300, options: { verifyClient (_info: VerifyClientInfo, _next: (ok: boolean) => void) {} } }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/echo' }))
  await client.waitClosed(4000)
  t.pass('the socket was destroyed')
})

t.test('a client that left while verifyClient was deciding leaves nothing behind', async (t) => {
  const decided = deferred<void>()
  const { port, app } = await buildApp(t, {
    plugin: {
      options: {
        verifyClient (_info: VerifyClientInfo, next: (ok: boolean) => void) {
          setTimeout(() => { next(true); decided.resolve() }, 100)
        }
      }
    },
    setup (app) {
      app.get('/slow', { websocket: true }, () => {})
    }
  })
  const client = await RawClient.connect(port)
  client.write(handshakeRequest({ path: '/slow' }))
  await sleep(20)
  client.destroy()
  await decided.wait()
  await until(() => app.websocketServer.clients.size === 0, 3000, 'no socket left')
  t.equal(app.websocketServer.clients.size, 0)
})

t.test('info.secure is true over TLS', async (t) => {
  const secure = deferred<boolean>()
  const app = Fastify({ logger: false, https: { key: KEY, cert: CERT } })
  t.teardown(() => withTimeout(app.close(), 5000, 'app.close()'))
  await app.register(websocket, { options: { verifyClient: (info: VerifyClientInfo) => { secure.resolve(info.secure); return true } } })
  app.get('/s', { websocket: true }, (socket) => { socket.send('secure') })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const client = new WsClient(`wss://127.0.0.1:${port}/s`, { agent: new https.Agent({ ca: CERT }) })
  t.teardown(() => client.terminate())
  const [data] = await withTimeout(new Promise<[Buffer]>((resolve, reject) => {
    client.once('message', (data: Buffer) => resolve([data]))
    client.once('error', reject)
  }), 5000, 'wss message')
  t.equal(data.toString(), 'secure')
  t.equal(await secure.wait(), true)
})

t.test('injectWS goes through verifyClient too', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => withTimeout(app.close(), 5000, 'app.close()'))
  await app.register(websocket, { options: { verifyClient: (info: VerifyClientInfo) => info.req.headers.authorization === 'ok' } })
  app.get('/ws', { websocket: true }, (socket) => { socket.send('hi') })
  const refusal = await app.injectWS('/ws').catch((error: unknown) => error)
  t.match(refusal, { statusCode: 401 })
  const socket = await app.injectWS('/ws', { headers: { authorization: 'ok' } })
  const [data] = await withTimeout(new Promise<[Buffer]>((resolve) => socket.once('message', (data) => resolve([data]))), 3000, 'message')
  t.equal(data.toString(), 'hi')
  socket.terminate()
})

t.test('an upgrade that fails after an async verifyClient accepted it still answers (500)', async (t) => {
  const { port } = await buildApp(t, {
    plugin: {
      // A protocol selector that picks something the client did not offer: a server bug, found
      // after verifyClient's callback, outside Fastify's handler call.
      protocols: () => 'not-offered',
      options: { verifyClient (_info: VerifyClientInfo, next: (ok: boolean) => void) { setImmediate(() => next(true)) } }
    }
  })
  const { response, client } = await handshake(t, port, '/echo', { 'Sec-WebSocket-Protocol': 'chat' })
  t.equal(response.statusCode, 500)
  await client.waitClosed()
})
