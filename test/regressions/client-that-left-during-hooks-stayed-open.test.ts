/**
 * Regression (found while testing verifyClient, issue 10): a client that sent its handshake
 * and left (FIN) while an async hook (or an async verifyClient) ran was upgraded anyway: its
 * FIN had already been read, so the socket was half-closed but not destroyed, the connection
 * never saw an end, and the socket stayed in `websocketServer.clients` (and open) until a
 * heartbeat or `app.close()` found it. Now, as `ws` does, an upgrade whose socket is no longer
 * readable or writable is destroyed instead, and the handler never runs.
 */
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { sleep } from '../helpers/wait.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'

t.test('a client that leaves while a preHandler hook runs leaves nothing open', async (t) => {
  let handlerCalls = 0
  const { port, app } = await buildApp(t, {
    setup (app) {
      app.addHook('preHandler', async () => { await sleep(100) })
      app.get('/slow', { websocket: true }, () => { handlerCalls++ })
    }
  })
  const client = await RawClient.connect(port)
  client.write(handshakeRequest({ path: '/slow' }))
  await sleep(20)
  client.destroy()
  await sleep(250)
  t.equal(app.websocketServer.clients.size, 0, 'no socket left behind')
  t.equal(handlerCalls, 0, 'the handler never ran')
})
