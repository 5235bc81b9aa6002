/**
 * `app.injectWS`: a WebSocket into the app with no listening port, through the real routing
 * and hooks. Success and echo, refusals with status/headers/body, subprotocols, headers and
 * query, `app.close()` with injected sockets open, and `websocketServer.clients`.
 */
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket, { WebSocketHandshakeError, type WebSocket, type WebSocketPluginOptions } from '../../src/index.js'
import { EVENTS, EventLog, WAIT, deferred, turn, until, withTimeout } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'
import { checkEchoMatrix } from '../helpers/echo-matrix.js'

/** An app with the plugin and an echo route at /echo; never listens. Closed at teardown. */
async function buildApp (t: Teardown, plugin: WebSocketPluginOptions = {}, setup?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(websocket, plugin)
  app.get('/echo', { websocket: true }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
  })
  setup?.(app)
  await app.ready()
  return app
}

async function inject (t: Teardown, app: FastifyInstance, path: string, options?: Parameters<FastifyInstance['injectWS']>[1]): Promise<{ socket: WebSocket, log: EventLog }> {
  const socket = await withTimeout(app.injectWS(path, options), WAIT, `injectWS ${path}`)
  t.teardown(() => socket.terminate())
  return { socket, log: new EventLog(socket, EVENTS) }
}

async function refusal (promise: Promise<WebSocket>): Promise<WebSocketHandshakeError> {
  const result = await withTimeout(promise.then(
    (socket) => {
      socket.terminate()
      throw new Error('injectWS resolved, expected a rejection')
    },
    (error: unknown) => error
  ), WAIT, 'injectWS to reject')
  if (!(result instanceof WebSocketHandshakeError)) throw result
  return result
}

t.test('injectWS opens a socket with no port, and messages flow both ways', async (t) => {
  const serverSocket = deferred<WebSocket>()
  const app = await buildApp(t, {}, (app) => {
    app.get('/chat', { websocket: true }, (socket) => {
      serverSocket.resolve(socket)
      socket.send('welcome')
      socket.on('message', (data, isBinary) => socket.send(Buffer.concat([Buffer.from('echo:'), data]), { binary: isBinary }))
    })
  })
  t.equal(app.server.listening, false, 'the app never listens')
  const { socket, log } = await inject(t, app, '/chat')
  t.equal(socket.readyState, socket.OPEN)
  const [greeting] = await log.nth('message') as [Buffer, boolean]
  t.equal(greeting.toString(), 'welcome', 'a message sent as soon as the route runs is not lost')
  socket.send('hi')
  const [reply, isBinary] = await log.nth('message', 2) as [Buffer, boolean]
  t.equal(reply.toString(), 'echo:hi')
  t.equal(isBinary, false)

  const server = await serverSocket.wait()
  const serverLog = new EventLog(server, EVENTS)
  server.send(Buffer.from([1, 2, 3]))
  const [bin, binIsBinary] = await log.nth('message', 3) as [Buffer, boolean]
  t.same([...bin], [1, 2, 3])
  t.equal(binIsBinary, true)
  socket.close(4000, 'done')
  const [code, reason] = await serverLog.nth('close') as [number, Buffer]
  t.equal(code, 4000)
  t.equal(reason.toString(), 'done')
  t.equal((await log.nth('close'))[0], 4000)
})

t.test('injectWS echo across every length encoding', async (t) => {
  const app = await buildApp(t)
  const { socket, log } = await inject(t, app, '/echo')
  await checkEchoMatrix(t, socket, log, 3)
})

t.test('a hook answering 401 -> rejects with statusCode, headers and the JSON body', async (t) => {
  let handlerRan = false
  const app = await buildApp(t, {}, (app) => {
    app.register(async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        if (request.headers.authorization !== 'Bearer good') {
          await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'Unauthorized', message: 'bad token' })
        }
      })
      scope.get('/private', { websocket: true }, (socket) => {
        handlerRan = true
        socket.send('secret')
      })
    })
  })
  const error = await refusal(app.injectWS('/private', { headers: { authorization: 'Bearer bad' } }))
  t.equal(error.statusCode, 401)
  t.equal(error.headers['www-authenticate'], 'Bearer')
  t.match(error.headers['content-type'], /application\/json/)
  t.same(JSON.parse(error.body), { error: 'Unauthorized', message: 'bad token' })
  t.equal(handlerRan, false, 'the websocket handler never ran')
  t.equal(app.websocketServer.clients.size, 0)

  const { log } = await inject(t, app, '/private', { headers: { authorization: 'Bearer good' } })
  t.equal((await log.nth('message'))[0]?.toString(), 'secret', 'the right token gets through')
})

t.test('an unknown route -> rejects with 404', async (t) => {
  const app = await buildApp(t)
  const error = await refusal(app.injectWS('/nope'))
  t.equal(error.statusCode, 404)
  t.match(JSON.parse(error.body), { statusCode: 404 })
})

t.test('subprotocol: the plugin option picks "chat" from the offers', async (t) => {
  const serverProtocol = deferred<string>()
  const app = await buildApp(t, { protocols: ['chat'] }, (app) => {
    app.get('/proto', { websocket: true }, (socket) => { serverProtocol.resolve(socket.protocol) })
  })
  const { socket } = await inject(t, app, '/proto', { protocols: ['superchat', 'chat'] })
  t.equal(socket.protocol, 'chat')
  t.equal(await serverProtocol.wait(), 'chat')
  const { socket: none } = await inject(t, app, '/proto', { protocols: ['other'] })
  t.equal(none.protocol, '', 'no common protocol: none selected')
})

t.test('headers and query reach the route', async (t) => {
  const seen = deferred<{ header: unknown, query: unknown, url: string }>()
  const app = await buildApp(t, {}, (app) => {
    app.get('/info', { websocket: true }, (_socket, request) => {
      seen.resolve({ header: request.headers['x-test'], query: request.query, url: request.url })
    })
  })
  await inject(t, app, '/info?fixed=1', { headers: { 'x-test': 'hello' }, query: { a: '1', b: ['x', 'y'], c: 'with space' } })
  const request = await seen.wait()
  t.equal(request.header, 'hello')
  t.same(request.query, { fixed: '1', a: '1', b: ['x', 'y'], c: 'with space' })
  t.match(request.url, /^\/info\?fixed=1&/)
})

t.test('app.close() with injected sockets open: clients see 1001 and close resolves', async (t) => {
  const app = await buildApp(t)
  const first = await inject(t, app, '/echo')
  const second = await inject(t, app, '/echo')
  t.equal(app.websocketServer.clients.size, 2)
  await withTimeout(app.close(), WAIT, 'app.close()')
  const [code1] = await first.log.nth('close') as [number]
  const [code2] = await second.log.nth('close') as [number]
  t.equal(code1, 1001)
  t.equal(code2, 1001)
  t.equal(app.websocketServer.clients.size, 0)
  t.equal(first.socket.readyState, first.socket.CLOSED)
})

t.test('websocketServer.clients counts injected sockets', async (t) => {
  const app = await buildApp(t)
  t.equal(app.websocketServer.clients.size, 0)
  const a = await inject(t, app, '/echo')
  t.equal(app.websocketServer.clients.size, 1)
  const b = await inject(t, app, '/echo')
  t.equal(app.websocketServer.clients.size, 2)
  a.socket.close(1000)
  await a.log.nth('close')
  await until(() => app.websocketServer.clients.size === 1, WAIT, 'the closed socket to leave')
  b.socket.terminate()
  await until(() => app.websocketServer.clients.size === 0, WAIT, 'the terminated socket to leave')
  await turn()
  t.equal(app.websocketServer.clients.size, 0)
})

t.test('injectWS on a path without a leading slash', async (t) => {
  const app = await buildApp(t)
  const { socket, log } = await inject(t, app, 'echo')
  socket.send('ok')
  t.equal((await log.nth('message'))[0]?.toString(), 'ok')
})
