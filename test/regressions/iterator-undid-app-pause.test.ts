/**
 * Regression (issue 9, item 2): the async iterator resumed reading when it caught up, although
 * the application had called `pause()`: one `paused` flag was shared. Each now has its own
 * reason in the read flow, and reading resumes only when none is left.
 */
import t from 'tap'
import Fastify from 'fastify'
import websocket, { type WebSocket, type WebSocketMessage } from '../../src/index.js'
import { deferred, sleep, until } from '../helpers/wait.js'

t.test("the iterator catching up does not undo the app's pause()", async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket)
  const server = deferred<{ socket: WebSocket, iterator: AsyncIterator<WebSocketMessage> }>()
  app.get('/ws', { websocket: true }, (socket) => {
    server.resolve({ socket, iterator: socket[Symbol.asyncIterator]() })
  })
  const client = await app.injectWS('/ws')
  t.teardown(() => client.terminate())
  const { socket, iterator } = await server.wait()
  for (let i = 0; i < 30; i++) client.send(`m${i}`)
  await sleep(100) // the iterator fills to its limit (16) and pauses reading
  socket.pause()
  const got: string[] = []
  for (let i = 0; i < 16; i++) got.push((await iterator.next()).value.data.toString())
  t.same(got, Array.from({ length: 16 }, (_v, i) => `m${i}`))

  // Caught up: the iterator's own reason is gone, but the app's pause stays.
  let more = false
  const next = iterator.next().then((result) => { more = true; return result })
  await sleep(200)
  t.equal(more, false, 'nothing more delivered while the app keeps it paused')
  t.equal(socket.isPaused, true)

  socket.resume()
  got.push((await next).value.data.toString())
  while (got.length < 30) got.push((await iterator.next()).value.data.toString())
  t.same(got, Array.from({ length: 30 }, (_v, i) => `m${i}`), 'all 30, in order, after resume()')
  await until(() => !socket.isPaused)
})
