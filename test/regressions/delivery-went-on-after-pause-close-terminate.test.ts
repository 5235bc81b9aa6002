/**
 * Regression (issue 9, item 4): `terminate()`, `close()` or `pause()` inside a 'message'
 * listener did not stop delivery: the other messages parsed from the same chunk were emitted
 * anyway. Events now leave the protocol one at a time, and delivery checks before each one.
 *
 * The three messages are sent in one tick by our client, so they leave in one write and reach
 * the server as one chunk.
 */
import t from 'tap'
import Fastify from 'fastify'
import websocket, { type WebSocket } from '../../src/index.js'
import { EVENTS, EventLog, deferred, sleep, until } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'

async function build (t: Teardown, onMessage: (socket: WebSocket, data: Buffer) => void) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket, { closeTimeout: 200 })
  const server = deferred<{ socket: WebSocket, log: EventLog }>()
  app.get('/ws', { websocket: true }, (socket) => {
    const log = new EventLog(socket, EVENTS)
    socket.on('message', (data) => onMessage(socket, data))
    server.resolve({ socket, log })
  })
  const client = await app.injectWS('/ws')
  t.teardown(() => client.terminate())
  const clientLog = new EventLog(client, EVENTS)
  client.send('one')
  client.send('two')
  client.send('three')
  return { client, clientLog, ...(await server.wait()) }
}

t.test('terminate() in a listener: no further message is emitted', async (t) => {
  const { log } = await build(t, (socket) => socket.terminate())
  await log.nth('close')
  t.same(log.events.map((e) => e[0]), ['message', 'close'])
  t.equal(log.events[1][1], 1006)
})

t.test('close() in a listener: no further message is emitted, the close completes', async (t) => {
  const { log, clientLog } = await build(t, (socket, data) => {
    if (data.toString() === 'one') socket.close(4001, 'enough')
  })
  await log.nth('close')
  t.same(log.of('message').map((e) => (e[0] as Buffer).toString()), ['one'], 'only the first')
  const [code, reason] = await clientLog.nth('close') as [number, Buffer]
  t.equal(code, 4001)
  t.equal(reason.toString(), 'enough')
})

t.test('pause() in a listener: nothing more until resume(), then the rest in order', async (t) => {
  const { socket, log } = await build(t, (socket, data) => {
    if (data.toString() === 'one') socket.pause()
  })
  await log.nth('message')
  await sleep(100)
  t.same(log.of('message').map((e) => (e[0] as Buffer).toString()), ['one'], 'paused after the first')
  t.equal(socket.isPaused, true)
  socket.resume()
  await until(() => log.count('message') === 3)
  t.same(log.of('message').map((e) => (e[0] as Buffer).toString()), ['one', 'two', 'three'])
})

t.test('pause() then resume() inside the same listener: delivery goes on in order', async (t) => {
  const { log } = await build(t, (socket, data) => {
    if (data.toString() === 'one') {
      socket.pause()
      socket.resume()
    }
  })
  await until(() => log.count('message') === 3)
  t.same(log.of('message').map((e) => (e[0] as Buffer).toString()), ['one', 'two', 'three'])
})
