/**
 * Typed messages (issue 13): `messageSchema` parses and validates what clients send with the
 * app's own validator compiler (its Ajv options apply), `sendSchema` serialises `sendJSON`
 * with its serializer compiler; invalid messages close with 1007 (1003 for binary) and a reason
 * naming the failing path, or become 'invalid' events. Through injectWS and real sockets.
 */
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket, { connect, type WebSocket } from '../../src/index.js'
import { EVENTS, EventLog, deferred, sleep } from '../helpers/wait.js'

const Say = {
  type: 'object',
  properties: { type: { const: 'say' }, text: { type: 'string', minLength: 1, maxLength: 2000 } },
  required: ['type', 'text'],
  additionalProperties: false
} as const

async function build (t: Test, route: object, setup?: (app: FastifyInstance) => void): Promise<{ app: FastifyInstance, server: Promise<{ socket: WebSocket, log: EventLog }> }> {
  const app = Fastify()
  t.teardown(() => app.close())
  setup?.(app)
  await app.register(websocket)
  const server = deferred<{ socket: WebSocket, log: EventLog }>()
  app.get('/chat', { websocket: true, ...route }, (socket) => {
    const log = new EventLog(socket, [...EVENTS, 'invalid'])
    socket.on('message', (data) => { socket.sendJSON({ echo: data }) })
    server.resolve({ socket, log })
  })
  return { app, server: server.promise }
}

t.test('valid messages arrive parsed; sendJSON sends JSON text', async (t) => {
  const { app, server } = await build(t, { messageSchema: Say })
  const client = await app.injectWS('/chat')
  t.teardown(() => client.terminate())
  const clientLog = new EventLog(client, EVENTS)
  client.send(JSON.stringify({ type: 'say', text: 'héllo ✓' }))
  const { log } = await server
  const [data, isBinary] = await log.nth('message') as [unknown, boolean]
  t.same(data, { type: 'say', text: 'héllo ✓' }, 'the listener gets the parsed value')
  t.equal(isBinary, false)
  const [reply, replyBinary] = await clientLog.nth('message') as [Buffer, boolean]
  t.equal(replyBinary, false, 'sendJSON sends text')
  t.same(JSON.parse(reply.toString()), { echo: { type: 'say', text: 'héllo ✓' } })
})

/** Sends `payload` and returns the close the client gets, and what the server saw. */
async function closeFor (t: Test, route: object, payload: string | Buffer): Promise<{ code: number, reason: string, serverEvents: string[] }> {
  const { app, server } = await build(t, route)
  const client = await app.injectWS('/chat')
  t.teardown(() => client.terminate())
  const clientLog = new EventLog(client, EVENTS)
  client.send(payload)
  const [code, reason] = await clientLog.nth('close') as [number, Buffer]
  const { log } = await server
  return { code, reason: reason.toString(), serverEvents: log.events.map((e) => e[0]) }
}

t.test('a message that is not JSON closes with 1007, naming no internals', async (t) => {
  const result = await closeFor(t, { messageSchema: Say }, '{ "type": "say", ')
  t.same(result, { code: 1007, reason: 'invalid message: not JSON', serverEvents: ['close'] }, 'no message event')
})

t.test('a message that breaks the schema closes with 1007 and a reason naming the path', async (t) => {
  t.match(await closeFor(t, { messageSchema: Say }, JSON.stringify({ type: 'say', text: '' })), { code: 1007, reason: /^invalid message: \/text must NOT have fewer than 1 characters$/ })
  t.match(await closeFor(t, { messageSchema: Say }, JSON.stringify({ type: 'shout', text: 'x' })), { code: 1007, reason: /^invalid message: \/type / })
  t.match(await closeFor(t, { messageSchema: Say }, JSON.stringify({ type: 'say', text: 'x'.repeat(2001) })), { code: 1007, reason: /\/text must NOT have more than 2000 characters/ })
  t.match(await closeFor(t, { messageSchema: Say }, '42'), { code: 1007, reason: /^invalid message: \/ must be object$/ })
})

t.test('a binary message closes with 1003 unless the route allows it', async (t) => {
  t.same(await closeFor(t, { messageSchema: Say }, Buffer.from([1, 2, 3])), { code: 1003, reason: 'binary messages are not accepted here', serverEvents: ['close'] })
  const { app, server } = await build(t, { messageSchema: Say, allowBinaryMessages: true })
  const client = await app.injectWS('/chat')
  t.teardown(() => client.terminate())
  client.send(Buffer.from([1, 2, 3]))
  const { log } = await server
  const [data, isBinary] = await log.nth('message') as [Buffer, boolean]
  t.same([...data], [1, 2, 3])
  t.equal(isBinary, true)
})

t.test("onInvalidMessage: 'event' keeps the connection open and emits 'invalid'", async (t) => {
  const { app, server } = await build(t, { messageSchema: Say, onInvalidMessage: 'event' })
  const client = await app.injectWS('/chat')
  t.teardown(() => client.terminate())
  client.send('not json')
  client.send(JSON.stringify({ type: 'say', text: 'still here' }))
  const { log } = await server
  await log.nth('message')
  const [error, raw, isBinary] = await log.nth('invalid') as [{ code: string, closeCode: number, message: string }, Buffer, boolean]
  t.match(error, { name: 'InvalidMessageError', code: 'WS_ERR_INVALID_MESSAGE', closeCode: 1007, message: 'invalid message: not JSON' })
  t.equal(raw.toString(), 'not json')
  t.equal(isBinary, false)
  t.same(log.events.map((e) => e[0]), ['invalid', 'message'], 'then the valid one, in order')
})

t.test("the app's own Ajv options apply (coercion, defaults, removeAdditional)", async (t) => {
  const app = Fastify({ ajv: { customOptions: { useDefaults: true, removeAdditional: 'all', coerceTypes: true } } })
  t.teardown(() => app.close())
  await app.register(websocket)
  const got = deferred<unknown>()
  app.get('/typed', {
    websocket: true,
    messageSchema: { type: 'object', properties: { n: { type: 'integer' }, mode: { type: 'string', default: 'fast' } }, additionalProperties: false }
  }, (socket) => { socket.on('message', (data) => got.resolve(data)) })
  const client = await app.injectWS('/typed')
  t.teardown(() => client.terminate())
  client.send(JSON.stringify({ n: '7', extra: true }))
  t.same(await got.wait(), { n: 7, mode: 'fast' }, 'coerced, defaulted and stripped as the app configured Ajv')
})

t.test('sendSchema serialises with the compiled serializer (unknown fields are not sent)', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket)
  app.get('/out', {
    websocket: true,
    sendSchema: { type: 'object', properties: { type: { type: 'string' }, count: { type: 'integer' } } }
  }, (socket) => {
    socket.sendJSON({ type: 'hello', count: 2, secret: 'not in the schema' } as never)
  })
  const client = await app.injectWS('/out')
  t.teardown(() => client.terminate())
  const [data] = await new EventLog(client, EVENTS).nth('message') as [Buffer]
  t.same(JSON.parse(data.toString()), { type: 'hello', count: 2 })
})

t.test('the schema is compiled once per route, not per connection', async (t) => {
  let compiled = 0
  const app = Fastify()
  t.teardown(() => app.close())
  app.setValidatorCompiler(({ schema }) => {
    compiled++
    return (data: unknown) => typeof data === 'object' && data !== null && 'ok' in (schema as object) === false
  })
  await app.register(websocket)
  app.get('/once', { websocket: true, messageSchema: { type: 'object' } }, () => {})
  for (let i = 0; i < 3; i++) {
    const client = await app.injectWS('/once')
    client.terminate()
  }
  t.equal(compiled, 1)
})

t.test('typed-message options are checked at route definition', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket)
  t.throws(() => app.get('/a', { websocket: true, messageSchema: 'yes' as never }, () => {}), { code: 'FST_WS_INVALID_OPTION', message: /route \/a: messageSchema must be a JSON Schema object/ })
  t.throws(() => app.get('/b', { websocket: true, allowBinaryMessages: true }, () => {}), { code: 'FST_WS_INVALID_OPTION', message: /apply to messages checked by a messageSchema/ })
  t.throws(() => app.get('/c', { websocket: true, messageSchema: Say, onInvalidMessage: 'ignore' as never }, () => {}), { code: 'FST_WS_INVALID_OPTION', message: /onInvalidMessage must be 'close' or 'event'/ })
})

t.test('over a real socket too, with our client', async (t) => {
  const { app, server } = await build(t, { messageSchema: Say })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const client = await connect(`ws://127.0.0.1:${(app.server.address() as { port: number }).port}/chat`)
  t.teardown(() => client.terminate())
  const clientLog = new EventLog(client, EVENTS)
  client.send(JSON.stringify({ type: 'say', text: 'over TCP' }))
  const [reply] = await clientLog.nth('message') as [Buffer]
  t.same(JSON.parse(reply.toString()), { echo: { type: 'say', text: 'over TCP' } })
  client.send('{')
  const [code] = await clientLog.nth('close') as [number]
  t.equal(code, 1007)
  await server
  await sleep(10)
})
