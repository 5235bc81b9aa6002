/**
 * A custom `errorHandler(error, socket, request, reply)` also receives socket-level errors
 * (issue 10), as @fastify/websocket 11.3 sends them: a peer that breaks the protocol (the
 * socket's 'error'), and here also a reset of the transport under it. At most one per
 * connection. Without a custom errorHandler, protocol errors go to 'error' listeners or are
 * logged at warn, and a reset is not logged at all.
 */
import t from 'tap'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { WebSocket, WebSocketProtocolError } from '../../src/index.js'
import { buildApp, closeEvent, openWs } from '../helpers/app.js'
import { deferred, sleep } from '../helpers/wait.js'
import { captureLogs } from '../helpers/logs.js'
import { RawClient } from '../helpers/raw-client.js'
import { buildFrame, OP, decodeClose } from '../helpers/frames.js'

interface Seen { error: Error, socket: unknown, request: FastifyRequest, reply: FastifyReply, self: unknown }

t.test('a peer that breaks the protocol: errorHandler gets ws\'s error code, the socket, request and reply', async (t) => {
  const seen = deferred<Seen>()
  const { app, wsUrl } = await buildApp(t, {
    plugin: {
      errorHandler (this: FastifyInstance, error, socket, request, reply) {
        seen.resolve({ error: error as Error, socket, request, reply, self: this })
        socket.terminate()
      }
    },
    setup (app) {
      app.get('/', { websocket: true }, () => {})
    }
  })
  const client = await openWs(t, `${wsUrl}/?who=peer`)
  // @fastify/websocket's own test: RSV2 set on a pong frame.
  ;(client as unknown as { _socket: import('node:net').Socket })._socket.write(Buffer.from([0xa2, 0x00]))
  const { error, socket, request, reply, self } = await seen.wait()
  t.type(error, WebSocketProtocolError)
  t.equal((error as WebSocketProtocolError).code, 'WS_ERR_UNEXPECTED_RSV_2_3')
  t.equal(error.message, 'Invalid WebSocket frame: RSV2 and RSV3 must be clear')
  t.type(socket, WebSocket)
  t.equal(request.ws, true)
  t.equal(request.url, '/?who=peer')
  t.equal(typeof reply.hijack, 'function')
  t.equal(self, app)
})

t.test('the protocol error still closes with its close code when the errorHandler does nothing', async (t) => {
  const seen = deferred<string>()
  const { port } = await buildApp(t, { plugin: { errorHandler (error) { seen.resolve((error as WebSocketProtocolError).code) } } })
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  client.write(buildFrame({ opcode: 0x3, payload: 'x' }))
  t.equal(await seen.wait(), 'WS_ERR_INVALID_OPCODE')
  const frame = await client.readFrame()
  t.equal(frame.opcode, OP.CLOSE)
  t.equal(decodeClose(frame.payload).code, 1002)
})

t.test('a reset: errorHandler gets the transport error (ECONNRESET), once', async (t) => {
  const errors: Error[] = []
  const closed = deferred<number>()
  const { port } = await buildApp(t, {
    plugin: { errorHandler (error) { errors.push(error as Error) } },
    setup (app) {
      app.get('/held', { websocket: true }, (socket) => {
        socket.on('close', (code) => closed.resolve(code))
        // Keep the server writing, so the reset is certain to be seen.
        socket.send(Buffer.alloc(64 * 1024))
      })
    }
  })
  const { client } = await RawClient.open(port, '/held')
  client.write(buildFrame({ opcode: OP.TEXT, payload: 'x'.repeat(10) }))
  await sleep(50)
  client.socket.resetAndDestroy()
  t.equal(await closed.wait(), 1006, 'close reports 1006')
  await sleep(50)
  t.equal(errors.length, 1, 'one call')
  t.match(errors[0], { code: /^(ECONNRESET|EPIPE)$/ })
})

t.test('at most one socket error per connection: a protocol error then a reset', async (t) => {
  const errors: string[] = []
  const closed = deferred<void>()
  const { port } = await buildApp(t, {
    plugin: { errorHandler (error) { errors.push(String((error as { code?: string }).code)) } },
    setup (app) {
      app.get('/x', { websocket: true }, (socket) => { socket.on('close', () => closed.resolve()) })
    }
  })
  const { client } = await RawClient.open(port, '/x')
  client.write(buildFrame({ opcode: OP.TEXT, mask: false, payload: 'unmasked' }))
  await client.readFrame()
  client.socket.resetAndDestroy()
  await closed.wait()
  await sleep(50)
  t.same(errors, ['WS_ERR_EXPECTED_MASK'])
})

t.test('the handler\'s own error listener still gets protocol errors, next to the errorHandler', async (t) => {
  const inHandler = deferred<string>()
  const inErrorHandler = deferred<string>()
  const { port } = await buildApp(t, {
    plugin: { errorHandler (error) { inErrorHandler.resolve((error as WebSocketProtocolError).code) } },
    setup (app) {
      app.get('/both', { websocket: true }, (socket) => {
        socket.on('error', (error) => inHandler.resolve((error as WebSocketProtocolError).code))
      })
    }
  })
  const { client } = await RawClient.open(port, '/both')
  t.teardown(() => client.destroy())
  client.write(buildFrame({ opcode: OP.PING, payload: 'x'.repeat(126) }))
  t.equal(await inHandler.wait(), 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH')
  t.equal(await inErrorHandler.wait(), 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH')
})

t.test('an errorHandler that throws on a socket error is logged; the server carries on', async (t) => {
  const logs = captureLogs()
  const { port, wsUrl } = await buildApp(t, {
    fastify: { logger: { level: 'error', stream: logs.stream } },
    plugin: { errorHandler () { throw new Error('handler of the handler') } }
  })
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  client.write(buildFrame({ opcode: 0x3 }))
  await client.readFrame()
  await sleep(20)
  t.ok(logs.lines.some((line) => line.level === 50 && /errorHandler threw/.test(String(line.msg))))
  const next = await openWs(t, `${wsUrl}/echo`)
  t.equal(next.readyState, 1)
})

t.test('without a custom errorHandler: a protocol error is logged at warn, a reset is not logged', async (t) => {
  const logs = captureLogs()
  const closed = deferred<void>()
  const { port } = await buildApp(t, {
    fastify: { logger: { level: 'warn', stream: logs.stream } },
    setup (app) {
      app.get('/quiet', { websocket: true }, (socket) => { socket.on('close', () => closed.resolve()) })
    }
  })
  const broken = await RawClient.open(port, '/echo')
  t.teardown(() => broken.client.destroy())
  broken.client.write(buildFrame({ opcode: 0x3 }))
  await broken.client.readFrame()
  await sleep(20)
  const warned = logs.lines.filter((line) => line.level === 40)
  t.equal(warned.length, 1)
  t.match(warned[0], { msg: 'websocket connection failed', err: { code: 'WS_ERR_INVALID_OPCODE' } })

  const reset = await RawClient.open(port, '/quiet')
  reset.client.socket.resetAndDestroy()
  await closed.wait()
  await sleep(50)
  t.equal(logs.lines.filter((line) => Number(line.level) >= 40).length, 1, 'nothing more logged for the reset')
})

t.test('a socket closed cleanly never reaches the errorHandler', async (t) => {
  let calls = 0
  const { wsUrl } = await buildApp(t, { plugin: { errorHandler () { calls++ } } })
  const client = await openWs(t, `${wsUrl}/echo`)
  client.close(1000)
  t.equal((await closeEvent(client)).code, 1000)
  await sleep(50)
  t.equal(calls, 0)
})
