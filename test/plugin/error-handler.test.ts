/**
 * Errors thrown or rejected by websocket handlers: by default logged and closed with 1011
 * (no internal detail on the wire); a custom errorHandler gets (error, socket, request, reply).
 */
import t from 'tap'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { WebSocket } from '../../src/index.js'
import { buildApp, closeEvent, openWs } from '../helpers/app.js'
import { deferred, sleep } from '../helpers/wait.js'
import { captureLogs } from '../helpers/logs.js'

const SECRET = 'db password is hunter2'

const throwing = {
  sync: () => { throw new Error(SECRET) },
  async: async () => {
    await sleep(10)
    throw new Error(SECRET)
  }
}

for (const [kind, handler] of Object.entries(throwing)) {
  t.test(`a handler that throws (${kind}): default closes with 1011 without the error text, and logs it`, async (t) => {
    const logs = captureLogs()
    const { wsUrl, app } = await buildApp(t, {
      fastify: { logger: { level: 'error', stream: logs.stream } },
      setup (app) {
        app.get('/fail', { websocket: true }, handler)
      }
    })
    const client = await openWs(t, `${wsUrl}/fail`)
    const { code, reason } = await closeEvent(client)
    t.equal(code, 1011)
    t.notMatch(reason, /hunter2/, 'no internal detail in the close reason')
    const logged = logs.lines.find((line) => JSON.stringify(line).includes(SECRET))
    t.ok(logged, 'the error went to the request logger')
    t.equal(logged?.level, 50, 'at error level')
    t.ok(logged?.reqId !== undefined, 'through request.log (it carries reqId)')
    await sleep(20)
    t.equal(app.websocketServer.clients.size, 0)
  })
}

t.test('a rejected handler still delivers the messages that arrived before it failed', async (t) => {
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/fail-later', { websocket: true }, async (socket) => {
        socket.on('message', (data) => socket.send(`echo ${String(data)}`))
        await sleep(50)
        throw new Error('later')
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/fail-later`)
  const messages: string[] = []
  client.on('message', (data) => messages.push(String(data)))
  client.send('x')
  t.equal((await closeEvent(client)).code, 1011)
  t.same(messages, ['echo x'])
})

for (const [kind, handler] of Object.entries(throwing)) {
  t.test(`a custom errorHandler gets (error, socket, request, reply) for a ${kind} failure`, async (t) => {
    const seen = deferred<{ error: unknown, socket: unknown, request: FastifyRequest, reply: FastifyReply, self: unknown }>()
    const { wsUrl, app } = await buildApp(t, {
      plugin: {
        errorHandler (this: FastifyInstance, error, socket, request, reply) {
          seen.resolve({ error, socket, request, reply, self: this })
          socket.close(4500, 'handled')
        }
      },
      setup (app) {
        app.get('/fail', { websocket: true }, handler)
      }
    })
    const client = await openWs(t, `${wsUrl}/fail?x=1`)
    const closed = closeEvent(client)
    const { error, socket, request, reply, self } = await seen.wait()
    t.type(error, Error)
    t.equal((error as Error).message, SECRET)
    t.type(socket, WebSocket, 'the server socket')
    t.equal(request.url, '/fail?x=1', 'the request that opened it')
    t.equal(request.ws, true)
    t.equal(typeof reply.hijack, 'function', 'the (hijacked) reply')
    t.equal(self, app, 'this is the Fastify instance')
    const { code, reason } = await closed
    t.equal(code, 4500, 'the errorHandler decided how to close')
    t.equal(reason, 'handled')
  })
}

t.test('an errorHandler that throws falls back to 1011', async (t) => {
  const { wsUrl } = await buildApp(t, {
    plugin: {
      errorHandler () { throw new Error('handler of the handler failed') }
    },
    setup (app) {
      app.get('/fail', { websocket: true }, throwing.sync)
    }
  })
  const client = await openWs(t, `${wsUrl}/fail`)
  t.equal((await closeEvent(client)).code, 1011)
})

t.test('a handler that throws after closing the socket itself is not closed again', async (t) => {
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/close-then-throw', { websocket: true }, (socket) => {
        socket.close(4001, 'mine')
        throw new Error('after close')
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/close-then-throw`)
  const { code, reason } = await closeEvent(client)
  t.equal(code, 4001)
  t.equal(reason, 'mine')
})
