/**
 * Our client against our own plugin over real TCP (Fastify on 127.0.0.1, port 0): the echo
 * matrix, fragmentation, ping/pong and close codes both ways, custom headers and the query
 * string reaching the route, subprotocols, and a hook's refusal.
 */
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket, { connect, WebSocketHandshakeError, type ClientOptions, type WebSocket, type WebSocketPluginOptions } from '../../src/index.js'
import { EVENTS, EventLog, WAIT, deferred, turn, withTimeout } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'
import { checkEchoMatrix } from '../helpers/echo-matrix.js'

async function listen (t: Teardown, plugin: WebSocketPluginOptions = {}, setup?: (app: FastifyInstance) => void): Promise<{ app: FastifyInstance, url: string }> {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(websocket, plugin)
  app.get('/echo', { websocket: true }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
  })
  setup?.(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return { app, url: `ws://127.0.0.1:${address.port}` }
}

async function open (t: Teardown, url: string, options?: ClientOptions): Promise<{ socket: WebSocket, log: EventLog }> {
  const socket = await withTimeout(connect(url, options), WAIT, `connect ${url}`)
  t.teardown(() => socket.terminate())
  return { socket, log: new EventLog(socket, EVENTS) }
}

/** A route that hands its socket to the test. */
function capture (app: FastifyInstance, path: string): () => Promise<WebSocket> {
  const sockets: WebSocket[] = []
  const waiters: Array<(socket: WebSocket) => void> = []
  app.get(path, { websocket: true }, (socket) => {
    const waiter = waiters.shift()
    if (waiter !== undefined) waiter(socket)
    else sockets.push(socket)
  })
  return async () => {
    const queued = sockets.shift()
    if (queued !== undefined) return queued
    return await withTimeout(new Promise<WebSocket>((resolve) => waiters.push(resolve)), WAIT, `a socket on ${path}`)
  }
}

t.test('echo through our plugin over TCP, text and binary, across every length encoding', async (t) => {
  const { url } = await listen(t)
  const { socket, log } = await open(t, `${url}/echo`)
  await checkEchoMatrix(t, socket, log, 11)
})

t.test('fragmented messages both ways', async (t) => {
  let next!: () => Promise<WebSocket>
  const { url } = await listen(t, {}, (app) => { next = capture(app, '/frag') })
  const { socket, log } = await open(t, `${url}/frag`)
  const server = await next()
  const serverLog = new EventLog(server, EVENTS)
  socket.send('a', { fin: false })
  socket.send('b', { fin: false })
  socket.send('c')
  const [data, isBinary] = await serverLog.nth('message') as [Buffer, boolean]
  t.equal(data.toString(), 'abc')
  t.equal(isBinary, false)
  server.send(Buffer.from([1]), { fin: false })
  server.send(Buffer.from([2]))
  const [bin, binIsBinary] = await log.nth('message') as [Buffer, boolean]
  t.same([...bin], [1, 2])
  t.equal(binIsBinary, true)
})

t.test('ping and pong both ways', async (t) => {
  let next!: () => Promise<WebSocket>
  const { url } = await listen(t, {}, (app) => { next = capture(app, '/ping') })
  const { socket, log } = await open(t, `${url}/ping`)
  const server = await next()
  const serverLog = new EventLog(server, EVENTS)
  socket.ping('c')
  t.equal(((await serverLog.nth('ping'))[0] as Buffer).toString(), 'c')
  t.equal(((await log.nth('pong'))[0] as Buffer).toString(), 'c')
  server.ping('s')
  t.equal(((await log.nth('ping'))[0] as Buffer).toString(), 's')
  t.equal(((await serverLog.nth('pong'))[0] as Buffer).toString(), 's')
})

t.test('close codes both ways', async (t) => {
  let next!: () => Promise<WebSocket>
  const { url } = await listen(t, {}, (app) => { next = capture(app, '/close') })

  const first = await open(t, `${url}/close`)
  const server1 = await next()
  const server1Log = new EventLog(server1, EVENTS)
  first.socket.close(4010, 'client leaves')
  const [code1, reason1] = await server1Log.nth('close') as [number, Buffer]
  t.equal(code1, 4010)
  t.equal(reason1.toString(), 'client leaves')
  t.equal((await first.log.nth('close'))[0], 4010)

  const second = await open(t, `${url}/close`)
  const server2 = await next()
  server2.close(4011, 'server says bye')
  const [code2, reason2] = await second.log.nth('close') as [number, Buffer]
  t.equal(code2, 4011)
  t.equal(reason2.toString(), 'server says bye')
  await turn()
  t.equal(second.log.count('close'), 1)
})

t.test('custom headers and the query string reach the route', async (t) => {
  const seen = deferred<{ custom: unknown, auth: unknown, query: unknown }>()
  const { url } = await listen(t, {}, (app) => {
    app.get('/info', { websocket: true }, (socket, request) => {
      seen.resolve({ custom: request.headers['x-custom'], auth: request.headers.authorization, query: request.query })
      socket.send('hello')
    })
  })
  const { log } = await open(t, `${url}/info?room=42&tag=a&tag=b`, { headers: { 'X-Custom': 'value', authorization: 'Bearer t' } })
  const request = await seen.wait()
  t.equal(request.custom, 'value')
  t.equal(request.auth, 'Bearer t')
  t.same(request.query, { room: '42', tag: ['a', 'b'] })
  t.equal(((await log.nth('message'))[0] as Buffer).toString(), 'hello', 'a message sent at once is received')
})

t.test('subprotocol chosen by the plugin option', async (t) => {
  const { url } = await listen(t, { protocols: ['v2', 'v1'] })
  const { socket } = await open(t, `${url}/echo`, { protocols: ['v1', 'v2'] })
  t.equal(socket.protocol, 'v2', "the server's preference wins")
})

t.test('a hook refusing with 401 over TCP -> WebSocketHandshakeError with the response', async (t) => {
  const { url } = await listen(t, {}, (app) => {
    app.addHook('preValidation', async (request, reply) => {
      if (request.url.startsWith('/echo')) await reply.code(401).header('x-why', 'no token').send({ message: 'nope' })
    })
  })
  const error = await withTimeout(connect(`${url}/echo`).then(
    (socket) => { socket.terminate(); return null },
    (e: unknown) => e
  ), WAIT, 'connect to reject') as WebSocketHandshakeError
  t.type(error, WebSocketHandshakeError)
  t.equal(error.statusCode, 401)
  t.equal(error.headers['x-why'], 'no token')
  t.same(JSON.parse(error.body), { message: 'nope' })
})

t.test('app.close() closes our client with 1001', async (t) => {
  const { app, url } = await listen(t)
  const { log } = await open(t, `${url}/echo`)
  await withTimeout(app.close(), WAIT, 'app.close()')
  const [code] = await log.nth('close') as [number]
  t.equal(code, 1001)
})
