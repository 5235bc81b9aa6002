// Type tests: compiled by `tsc --noEmit` in `npm test`; a wrong inference fails the build.
// Not a tap file: nothing here runs.
import Fastify, { type FastifyRequest } from 'fastify'
import websocket, { WebSocket, connect, type WebSocketHandler } from '../../src/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function assertType<T extends true> (_value?: T): void {}

const app = Fastify()
await app.register(websocket, { maxMessageSize: 1024, closeTimeout: 1000, protocols: ['a'] })
await app.register(websocket, { protocols: (offered: string[]) => offered[0] })

// @ts-expect-error maxMessageSize is a number
await app.register(websocket, { maxMessageSize: '1' })

app.get('/ws', { websocket: true }, (socket, request) => {
  assertType<Equal<typeof socket, WebSocket>>()
  assertType<Equal<typeof request, FastifyRequest>>()
  socket.on('message', (data, isBinary) => {
    assertType<Equal<typeof data, Buffer>>()
    assertType<Equal<typeof isBinary, boolean>>()
  })
  socket.on('close', (code, reason) => {
    assertType<Equal<typeof code, number>>()
    assertType<Equal<typeof reason, Buffer>>()
  })
  const written: boolean = socket.send('x')
  void written
  // @ts-expect-error numbers are not sendable
  socket.send(1)
})

app.get<{ Params: { room: string }, Querystring: { name: string } }>('/rooms/:room', { websocket: { maxMessageSize: 10 } }, async (socket, request) => {
  assertType<Equal<typeof request.params.room, string>>()
  assertType<Equal<typeof request.query.name, string>>()
  socket.send(request.params.room)
})

app.route({
  method: 'GET',
  url: '/both',
  handler: (_request, reply) => reply.send('http'),
  wsHandler: (socket, request) => {
    assertType<Equal<typeof socket, WebSocket>>()
    assertType<Equal<typeof request.ws, boolean>>()
  }
})

// Plain routes keep Fastify's own handler types.
app.get('/plain', (request, reply) => {
  assertType<Equal<typeof request.ws, boolean>>()
  return reply.send('ok')
})

const handler: WebSocketHandler = (socket) => { socket.close(1000) }
app.get('/typed', { websocket: true }, handler)

assertType<Equal<typeof app.websocketServer.clients, Set<WebSocket>>>()
const injected: WebSocket = await app.injectWS('/ws', { headers: { a: 'b' }, query: { x: '1' }, protocols: ['a'] })
const client: WebSocket = await connect('ws://127.0.0.1:1/')
void injected
void client

// The socket's public type shows the documented API only (issue 9): no protocol callbacks, no
// raw transport writes.
declare const socket: WebSocket
// @ts-expect-error internal: raw bytes must never reach the transport from user code
socket.write(Buffer.alloc(1), true)
// @ts-expect-error internal protocol callback
socket.onClose(1000, '')
// @ts-expect-error internal protocol callback
socket.onMessage(Buffer.alloc(0), false)
// @ts-expect-error internal: publish's pre-encoded frames
socket.sendEncoded([])
// @ts-expect-error internal: the plugin releases held events
socket.releaseEvents()
// @ts-expect-error the constructor is not public: sockets come from handlers, connect() and injectWS
const constructed = new WebSocket(undefined as never, {})
void constructed

// @fastify/websocket's options (issue 10): the ws server settings that mean something here.
await app.register(websocket, {
  options: {
    maxPayload: 1024,
    clientTracking: true,
    autoPong: false,
    handleProtocols: (protocols, request) => {
      assertType<Equal<typeof protocols, Set<string>>>()
      assertType<Equal<typeof request, import('node:http').IncomingMessage>>()
      return protocols.has('a') ? 'a' : false
    },
    verifyClient: (info, next) => {
      assertType<Equal<typeof info.origin, string | undefined>>()
      assertType<Equal<typeof info.secure, boolean>>()
      next(info.req.headers.authorization !== undefined, 401, 'Unauthorized', { 'x-a': 'b' })
    }
  }
})
await app.register(websocket, { options: { verifyClient: (info) => info.secure } })
// @ts-expect-error noServer has no meaning here (refused at register, as @fastify/websocket refuses it)
await app.register(websocket, { options: { noServer: true } })
// @ts-expect-error port belongs to app.listen()
await app.register(websocket, { options: { port: 3000 } })
// @ts-expect-error UTF-8 is always validated
await app.register(websocket, { options: { skipUTF8Validation: true } })

// preClose in both of @fastify/websocket's shapes, `this` the instance.
await app.register(websocket, {
  preClose (done) {
    assertType<Equal<typeof this, import('fastify').FastifyInstance>>()
    this.websocketServer.close(done)
  }
})
await app.register(websocket, { async preClose () { await this.close() } })

// The ws server surface.
app.websocketServer.on('connection', (socket, request) => {
  assertType<Equal<typeof socket, WebSocket>>()
  assertType<Equal<typeof request, import('node:http').IncomingMessage>>()
})
app.websocketServer.close((error) => { assertType<Equal<typeof error, Error | undefined>>() })
app.websocketServer.close()

// An errorHandler written for @fastify/websocket's types (error: Error) is accepted as it is.
await app.register(websocket, {
  errorHandler (error: Error, socket, request, reply) {
    request.log.error(error)
    void reply
    socket.terminate()
  }
})
await app.register(websocket, {
  errorHandler (error, socket) {
    assertType<Equal<typeof error, unknown>>()
    socket.close(1011)
  }
})
