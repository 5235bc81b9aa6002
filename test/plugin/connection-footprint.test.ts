/**
 * What an accepted connection keeps for its whole life (issue 12, D: memory per idle socket).
 * The upgrade's stopgaps (the handshake clock's 'close' listener, the error listener that
 * guards the handshake) are gone once the connection owns the socket, and messages still
 * flow; the connection's own listeners are the socket's only ones.
 */
import t from 'tap'
import type { Socket } from 'node:net'
import { buildApp, openWs, nextMessage } from '../helpers/app.js'
import { WAIT, withTimeout } from '../helpers/wait.js'

t.test("an accepted socket keeps none of the upgrade's listeners", async (t) => {
  let resolveSocket!: (socket: Socket) => void
  const accepted = new Promise<Socket>((resolve) => { resolveSocket = resolve })
  const { wsUrl } = await buildApp(t, {
    plugin: { handshakeTimeout: 5000 },
    setup (app) {
      app.get('/raw', { websocket: true }, (socket, request) => {
        resolveSocket(request.raw.socket as Socket)
        socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/raw`)
  const raw = await withTimeout(accepted, WAIT, 'the handler')
  const names = (event: string): string[] => raw.rawListeners(event).map((listener) => listener.name)
  t.notOk(names('close').some((name) => name.includes('onceWrapper')), "no `once('close')` left by the handshake clock")
  t.equal(raw.listenerCount('close'), 1, "the connection's own close listener only")
  t.notOk(names('error').includes('destroyOnUpgradeError'), "the upgrade's error guard was removed")
  t.equal(raw.listenerCount('error'), 1, "the connection's own error listener only")
  client.send('still echoed')
  t.equal(String((await nextMessage(client)).data), 'still echoed')
})

t.test('an error on the socket right after the upgrade is still handled (no crash, close 1006)', async (t) => {
  let resolveClose!: (code: number) => void
  const closed = new Promise<number>((resolve) => { resolveClose = resolve })
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/raw', { websocket: true }, (socket, request) => {
        socket.on('close', (code) => resolveClose(code))
        ;(request.raw.socket as Socket).destroy(new Error('reset while idle'))
      })
    }
  })
  await openWs(t, `${wsUrl}/raw`)
  t.equal(await withTimeout(closed, WAIT, 'close'), 1006)
})
