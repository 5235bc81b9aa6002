/**
 * `app.close()` with live connections: 1001 to every client, bounded by closeTimeout when a
 * peer never answers, 503 for upgrades that arrive meanwhile, and `websocketServer.clients`
 * tracking sockets as they come and go.
 */
import t from 'tap'
import type { WebSocket } from '../../src/index.js'
import { buildApp, closeEvent, openWs } from '../helpers/app.js'
import { deferred, sleep, withTimeout } from '../helpers/wait.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'
import { OP } from '../helpers/frames.js'

t.test('app.close() closes live connections with 1001 and resolves once they are closed', async (t) => {
  const serverCloses: number[] = []
  const { app, wsUrl } = await buildApp(t, {
    plugin: { closeTimeout: 5000 },
    setup (app) {
      app.get('/ws', { websocket: true }, (socket) => {
        socket.on('close', (code) => serverCloses.push(code))
      })
    }
  })
  const clients = [await openWs(t, `${wsUrl}/ws`), await openWs(t, `${wsUrl}/ws`), await openWs(t, `${wsUrl}/echo`)]
  const closed = clients.map((client) => closeEvent(client))
  const started = Date.now()
  await withTimeout(app.close(), 3000, 'app.close()')
  const elapsed = Date.now() - started
  t.ok(elapsed < 1000, `peers that answer do not make app.close() wait for closeTimeout (${elapsed} ms)`)
  for (const result of await Promise.all(closed)) {
    t.equal(result.code, 1001)
  }
  t.same(serverCloses, [1001, 1001], 'the server sockets saw the echoed 1001')
  t.equal(app.websocketServer.clients.size, 0)
})

t.test('app.close() finishes within closeTimeout when a raw client never answers the close frame', async (t) => {
  const { app, port } = await buildApp(t, { plugin: { closeTimeout: 300 } })
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  t.equal(app.websocketServer.clients.size, 1)

  const started = Date.now()
  const closing = withTimeout(app.close(), 2000, 'app.close() with an unresponsive peer')
  const close = await client.readClose()
  t.equal(close.code, 1001, 'the client got a 1001 close frame')
  t.equal(close.frame.opcode, OP.CLOSE)
  // We never answer. The server must give up after closeTimeout and destroy the socket.
  await closing
  const elapsed = Date.now() - started
  t.ok(elapsed < 2000, `app.close() resolved in ${elapsed} ms`)
  t.ok(elapsed >= 250, `and only after waiting about closeTimeout for the peer (${elapsed} ms)`)
  await client.waitClosed()
  t.equal(app.websocketServer.clients.size, 0)
})

t.test('upgrades that arrive while app.close() runs get 503 and are closed', async (t) => {
  const { app, port } = await buildApp(t, { plugin: { closeTimeout: 400 } })
  const { client: silent } = await RawClient.open(port, '/echo')
  t.teardown(() => silent.destroy())
  const closing = withTimeout(app.close(), 3000, 'app.close()')
  await silent.readClose()
  // The server still listens while the silent peer holds the shutdown open.
  const late = await RawClient.connect(port)
  t.teardown(() => late.destroy())
  late.write(handshakeRequest({ path: '/echo' }))
  const response = await late.readResponse()
  t.equal(response.statusCode, 503)
  await late.waitClosed()
  await closing
})

t.test('websocketServer.clients goes up and down as sockets open and close', async (t) => {
  const serverClosed: Array<ReturnType<typeof deferred<void>>> = []
  const { app, wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/ws', { websocket: true }, (socket: WebSocket) => {
        const done = deferred<void>()
        serverClosed.push(done)
        socket.on('close', () => done.resolve())
      })
    }
  })
  const clients = app.websocketServer.clients
  t.equal(clients.size, 0)
  const a = await openWs(t, `${wsUrl}/ws`)
  t.equal(clients.size, 1)
  const b = await openWs(t, `${wsUrl}/ws`)
  const c = await openWs(t, `${wsUrl}/ws`)
  t.equal(clients.size, 3)
  for (const socket of clients) t.equal(socket.readyState, 1, 'every listed socket is OPEN')

  a.close(1000)
  await serverClosed[0].wait()
  t.equal(clients.size, 2, 'a clean close removes the socket')

  b.terminate()
  await serverClosed[1].wait()
  t.equal(clients.size, 1, 'an abrupt disconnect removes the socket')

  const cClosed = closeEvent(c)
  for (const socket of clients) socket.close(1000)
  await cClosed
  await serverClosed[2].wait()
  t.equal(clients.size, 0, 'a server-side close removes the socket')
})

t.test('a custom preClose replaces the default shutdown', async (t) => {
  let called = 0
  const { app, wsUrl } = await buildApp(t, {
    plugin: {
      async preClose (this) {
        called++
        for (const socket of this.websocketServer.clients) socket.close(4003, 'custom shutdown')
        await sleep(50)
      }
    }
  })
  const client = await openWs(t, `${wsUrl}/echo`)
  const closed = closeEvent(client)
  await withTimeout(app.close(), 3000, 'app.close()')
  const { code, reason } = await closed
  t.equal(code, 4003)
  t.equal(reason, 'custom shutdown')
  t.equal(called, 1)
})
