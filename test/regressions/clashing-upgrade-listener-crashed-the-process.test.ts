/**
 * Regression (issue 10): another `upgrade` listener on the same server that answers one of our
 * websocket paths first (it assigns a ServerResponse to the socket and replies, or ends the
 * socket itself) made our listener throw `ERR_HTTP_SOCKET_ASSIGNED` out of the server's
 * 'upgrade' event: an uncaught exception, so the process died. @fastify/websocket logs it and
 * carries on; so do we now, and the next upgrade is served normally.
 */
import http from 'node:http'
import t from 'tap'
import WsClient from 'ws'
import { buildApp, openWs, nextMessage } from '../helpers/app.js'
import { withTimeout } from '../helpers/wait.js'
import { captureLogs } from '../helpers/logs.js'

/** Opens a `ws` client and resolves with how the handshake ended. */
async function attempt (url: string): Promise<{ status?: number, error?: string }> {
  const client = new WsClient(url)
  return await withTimeout(new Promise((resolve) => {
    client.once('open', () => { client.terminate(); resolve({ status: 101 }) })
    client.once('unexpected-response', (_request, response) => { resolve({ status: response.statusCode }); client.terminate() })
    client.once('error', (error) => resolve({ error: error.message }))
  }), 5000, 'the clashing handshake to end')
}

const CLASHES: Record<string, (request: http.IncomingMessage, socket: import('node:stream').Duplex) => void> = {
  'assigns a ServerResponse and replies': (request, socket) => {
    if (request.url !== '/taken') return
    const response = new http.ServerResponse(request)
    response.assignSocket(socket as import('node:net').Socket)
    response.statusCode = 403
    response.end()
    socket.destroy()
  },
  'assigns a ServerResponse and answers later': (request, socket) => {
    if (request.url !== '/taken') return
    const response = new http.ServerResponse(request)
    response.assignSocket(socket as import('node:net').Socket)
    setTimeout(() => {
      response.statusCode = 403
      response.shouldKeepAlive = false
      response.end('mine', () => socket.destroy())
    }, 20)
  },
  'writes a raw response and ends the socket': (request, socket) => {
    if (request.url !== '/taken') return
    socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  }
}

for (const [label, clash] of Object.entries(CLASHES)) {
  t.test(`a listener that ${label} on one of our paths: logged, no crash`, async (t) => {
    const logs = captureLogs()
    let handlerCalls = 0
    const { app, wsUrl } = await buildApp(t, {
      fastify: { logger: { level: 'warn', stream: logs.stream } },
      setup (app) {
        app.get('/taken', { websocket: true }, () => { handlerCalls++ })
      }
    })
    // The other listener runs first, as in @fastify/websocket's test (there it is registered
    // before the plugin): prepended to ours.
    app.server.prependListener('upgrade', clash)
    t.teardown(() => app.server.removeListener('upgrade', clash))

    const result = await attempt(`${wsUrl}/taken`)
    t.not(result.status, 101, 'the other listener\'s answer stands')
    t.equal(handlerCalls, 0, 'our handler never ran for that socket')
    t.equal(app.server.listening, true, 'the server is still up')

    // Served normally afterwards.
    const client = await openWs(t, `${wsUrl}/echo`)
    client.send('still here')
    t.equal((await nextMessage(client)).data.toString(), 'still here')
    const warned = logs.lines.find((line) => line.level === 40 && /upgrade/.test(String(line.msg)))
    t.ok(warned, 'a warning was logged', { lines: logs.lines })
  })
}
