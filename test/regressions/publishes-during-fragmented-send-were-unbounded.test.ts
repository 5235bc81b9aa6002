/**
 * Regression (issue 9, item 6): frames published to a socket in the middle of our own
 * fragmented send were queued without bound and not counted: 20 000 publishes of 4 KiB left
 * `bufferedAmount` at 29 against a 64 KiB `maxBufferedAmount`. They now count, and the
 * backpressure policy applies to them like to any send.
 */
import t from 'tap'
import Fastify from 'fastify'
import websocket, { type BackpressurePolicy, type WebSocket } from '../../src/index.js'
import { EVENTS, EventLog, deferred } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'

const KiB = 1024

async function build (t: Teardown, backpressurePolicy: BackpressurePolicy) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket, { maxBufferedAmount: 64 * KiB, backpressurePolicy, closeTimeout: 200 })
  const server = deferred<WebSocket>()
  app.get('/ws', { websocket: true }, (socket) => {
    socket.subscribe('news')
    server.resolve(socket)
  })
  const client = await app.injectWS('/ws')
  t.teardown(() => client.terminate())
  return { app, client, socket: await server.wait() }
}

t.test("'drop': publishes queued behind our fragment count, and those over the limit are dropped", async (t) => {
  const { app, client, socket } = await build(t, 'drop')
  const log = new EventLog(client, EVENTS)
  socket.send('first half ', { fin: false })
  const payload = Buffer.alloc(4 * KiB, 0x61)
  let delivered = 0
  for (let i = 0; i < 20_000; i++) delivered += app.publish('news', payload)
  t.ok(delivered >= 15 && delivered <= 17, `${delivered} publishes accepted: about 64 KiB of 4 KiB frames`)
  t.ok(socket.bufferedAmount >= 60 * KiB, `bufferedAmount ${socket.bufferedAmount} counts them`)
  t.ok(socket.bufferedAmount <= 72 * KiB, 'and stays near the limit')
  t.equal(socket.send('second half'), false, 'the final fragment is over the limit too, but never dropped: it completes a message')
  await log.nth('message', 1 + delivered)
  const messages = log.of('message').map((e) => (e[0] as Buffer))
  t.equal(messages[0].toString(), 'first half second half', 'our fragmented message first, whole')
  t.equal(messages.length, 1 + delivered, 'then exactly the accepted publishes')
  t.ok(messages.slice(1).every((m) => m.equals(payload)))
})

t.test("'close': a publish over the limit fails the connection with 1008", async (t) => {
  const { app, client, socket } = await build(t, 'close')
  const log = new EventLog(client, EVENTS)
  socket.send('part', { fin: false })
  for (let i = 0; i < 20_000 && socket.readyState === socket.OPEN; i++) app.publish('news', Buffer.alloc(4 * KiB))
  t.equal(socket.readyState, socket.CLOSING, 'the policy closed it')
  const [code] = await log.nth('close') as [number]
  t.equal(code, 1008)
})
