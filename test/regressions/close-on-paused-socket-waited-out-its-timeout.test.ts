/**
 * Regression (issue 9, item 5): `close()` on a paused socket could not read the peer's close
 * frame, so every such close (and the 1001s `app.close()` sends to paused sockets) waited out
 * `closeTimeout`. Closing now always reads, until the peer's close frame or the timeout.
 */
import t from 'tap'
import type { WebSocket } from '../../src/index.js'
import { buildApp, closeEvent, openWs } from '../helpers/app.js'
import { deferred, turn } from '../helpers/wait.js'

const CLOSE_TIMEOUT = 5000

t.test('close() on a paused socket completes as soon as the peer answers', async (t) => {
  const server = deferred<WebSocket>()
  const { wsUrl } = await buildApp(t, {
    plugin: { closeTimeout: CLOSE_TIMEOUT },
    setup (app) {
      app.get('/paused', { websocket: true }, (socket) => {
        socket.pause()
        server.resolve(socket)
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/paused`)
  client.send('unread') // waits in front of the peer's close frame
  const socket = await server.wait()
  const closed = deferred<[number, string]>()
  socket.on('close', (code, reason) => closed.resolve([code, reason.toString()]))
  const started = Date.now()
  socket.close(1000, 'bye')
  t.same(await closed.wait(CLOSE_TIMEOUT), [1000, 'bye'], 'the peer echoed our code, and we read it')
  const elapsed = Date.now() - started
  t.ok(elapsed < 1000, `closed in ${elapsed} ms, not after closeTimeout (${CLOSE_TIMEOUT} ms)`)
  t.same(await closeEvent(client), { code: 1000, reason: 'bye' })
})

t.test('app.close() with paused sockets finishes without waiting out closeTimeout', async (t) => {
  let opened = 0
  const { app, wsUrl } = await buildApp(t, {
    plugin: { closeTimeout: CLOSE_TIMEOUT },
    setup (app) {
      app.get('/paused', { websocket: true }, (socket) => {
        socket.pause()
        opened++
      })
    }
  })
  const clients = await Promise.all(Array.from({ length: 5 }, async () => await openWs(t, `${wsUrl}/paused`)))
  for (const client of clients) client.send('never read by the app')
  while (opened < 5) await turn()
  const started = Date.now()
  await app.close()
  const elapsed = Date.now() - started
  t.ok(elapsed < 1500, `app.close() took ${elapsed} ms (closeTimeout ${CLOSE_TIMEOUT} ms)`)
  for (const client of clients) t.equal((await closeEvent(client)).code, 1001)
})
