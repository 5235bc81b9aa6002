/**
 * The closing handshake over real sockets, with `ws` as the peer: codes and reasons both
 * ways, server-initiated close, terminate(), and the RangeError for unsendable codes.
 */
import t from 'tap'
import { ReadyState, type WebSocket } from '../../src/index.js'
import { buildApp, closeEvent, nextMessage, openWs } from '../helpers/app.js'
import { deferred } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'

interface ServerClose {
  code: number
  reason: Buffer
  readyState: number
}

/** A route at `/ws` that runs `onOpen` and reports the server socket's 'close' event. */
async function appWithRoute (t: Teardown, onOpen: (socket: WebSocket) => void = () => {}) {
  const serverClose = deferred<ServerClose>()
  const serverSocket = deferred<WebSocket>()
  const built = await buildApp(t, {
    setup (app) {
      app.get('/ws', { websocket: true }, (socket) => {
        serverSocket.resolve(socket)
        socket.on('close', (code, reason) => serverClose.resolve({ code, reason, readyState: socket.readyState }))
        onOpen(socket)
      })
    }
  })
  return { ...built, serverClose, serverSocket }
}

t.test('client closes with 4001 "bye": the server gets 4001 and a Buffer reason', async (t) => {
  const { wsUrl, serverClose } = await appWithRoute(t)
  const client = await openWs(t, `${wsUrl}/ws`)
  const clientClosed = closeEvent(client)
  client.close(4001, 'bye')
  const server = await serverClose.wait()
  t.equal(server.code, 4001)
  t.ok(Buffer.isBuffer(server.reason), 'reason is a Buffer')
  t.equal(server.reason.toString(), 'bye')
  t.equal(server.readyState, ReadyState.CLOSED, 'CLOSED when close is emitted')
  t.equal((await clientClosed).code, 4001, 'the server echoed the code')
})

t.test('client closes without a code: the server reports 1005', async (t) => {
  const { wsUrl, serverClose } = await appWithRoute(t)
  const client = await openWs(t, `${wsUrl}/ws`)
  const clientClosed = closeEvent(client)
  client.close()
  const server = await serverClose.wait()
  t.equal(server.code, 1005)
  t.equal(server.reason.length, 0)
  t.equal((await clientClosed).code, 1005, 'the echo has no code either')
})

t.test('server closes with 4002 "done": the client gets 4002 "done"', async (t) => {
  const { wsUrl, serverClose } = await appWithRoute(t, (socket) => {
    socket.on('message', () => socket.close(4002, 'done'))
  })
  const client = await openWs(t, `${wsUrl}/ws`)
  const clientClosed = closeEvent(client)
  client.send('close please')
  const { code, reason } = await clientClosed
  t.equal(code, 4002)
  t.equal(reason, 'done')
  const server = await serverClose.wait()
  t.equal(server.code, 4002, 'the server saw the echo of its code')
  t.equal(server.reason.toString(), 'done')
})

t.test('server-initiated close without a code: client gets 1005 and the server closes TCP promptly', async (t) => {
  const { wsUrl, serverClose, serverSocket } = await appWithRoute(t, (socket) => {
    socket.on('message', () => {
      socket.close()
      // Sending after close is not an error to throw: the callback gets one.
      socket.send('too late', (error) => sendAfterClose.resolve(error))
    })
  })
  const sendAfterClose = deferred<Error | null | undefined>()
  const client = await openWs(t, `${wsUrl}/ws`)
  const started = Date.now()
  // `ws` waits 30 s for the server to end TCP after the handshake; a prompt close event
  // shows the server closed the connection itself (RFC 6455 §7.1.1).
  const clientClosed = closeEvent(client, 2000)
  client.send('go')
  t.equal((await clientClosed).code, 1005)
  t.ok(Date.now() - started < 2000)
  t.equal((await serverClose.wait()).readyState, ReadyState.CLOSED)
  t.type(await sendAfterClose.wait(), Error, 'send after close reports an error through its callback')
  t.equal((await serverSocket.promise).readyState, ReadyState.CLOSED)
})

t.test('close() moves readyState to CLOSING at once', async (t) => {
  const states = deferred<number[]>()
  const { wsUrl } = await appWithRoute(t, (socket) => {
    const before = socket.readyState
    socket.close(1000)
    states.resolve([before, socket.readyState])
  })
  const client = await openWs(t, `${wsUrl}/ws`)
  t.same(await states.wait(), [ReadyState.OPEN, ReadyState.CLOSING])
  t.equal((await closeEvent(client)).code, 1000)
})

t.test('unsendable close codes and long reasons throw RangeError and leave the socket open', async (t) => {
  const results = deferred<Array<[string, unknown]>>()
  const { wsUrl } = await appWithRoute(t, (socket) => {
    const out: Array<[string, unknown]> = []
    const attempts: Array<[string, () => void]> = [
      ['1005', () => socket.close(1005)],
      ['1006', () => socket.close(1006)],
      ['1015', () => socket.close(1015)],
      ['999', () => socket.close(999)],
      ['1004', () => socket.close(1004)],
      ['5000', () => socket.close(5000)],
      ['reason of 124 bytes', () => socket.close(1000, 'x'.repeat(124))]
    ]
    for (const [label, attempt] of attempts) {
      try {
        attempt()
        out.push([label, 'no throw'])
      } catch (error) {
        out.push([label, error])
      }
    }
    out.push(['readyState', socket.readyState])
    socket.send('still open')
    results.resolve(out)
  })
  const client = await openWs(t, `${wsUrl}/ws`)
  const out = await results.wait()
  for (const [label, result] of out.slice(0, -1)) t.type(result, RangeError, `close(${label}) throws RangeError`)
  t.same(out[out.length - 1], ['readyState', ReadyState.OPEN])
  t.equal((await nextMessage(client)).data.toString(), 'still open')
})

t.test('terminate() gives the client 1006 and the server close event 1006', async (t) => {
  const { wsUrl, serverClose } = await appWithRoute(t, (socket) => {
    socket.on('message', () => socket.terminate())
  })
  const client = await openWs(t, `${wsUrl}/ws`)
  const clientClosed = closeEvent(client)
  client.send('terminate')
  t.equal((await clientClosed).code, 1006)
  const server = await serverClose.wait()
  t.equal(server.code, 1006)
  t.equal(server.reason.length, 0)
})

t.test('a client that vanishes without a close frame: server close event 1006', async (t) => {
  const { wsUrl, serverClose } = await appWithRoute(t)
  const client = await openWs(t, `${wsUrl}/ws`)
  client.terminate()
  t.equal((await serverClose.wait()).code, 1006)
})

t.test('a client that half-closes (FIN, no close frame) is not leaked', async (t) => {
  const { wsUrl, serverClose, app } = await appWithRoute(t)
  const client = await openWs(t, `${wsUrl}/ws`)
  t.equal(app.websocketServer.clients.size, 1)
  // End our side of TCP without a close frame; the server must end its side too.
  const underlying = (client as unknown as { _socket: import('node:net').Socket })._socket
  underlying.end()
  t.equal((await serverClose.wait()).code, 1006)
  t.equal(app.websocketServer.clients.size, 0)
})
