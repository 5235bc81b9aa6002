/**
 * Regression (issue 9, item 10): the client reported a handshake timeout instead of the
 * refusal when a non-101 response without Content-Length arrived on a keep-alive connection
 * (it waited for an end of body that never came).
 */
import net from 'node:net'
import t from 'tap'
import { WebSocketHandshakeError, connect } from '../../src/index.js'
import type { Teardown } from '../helpers/teardown.js'

/** A server that answers every request with `response` and keeps the connection open. */
async function refusingServer (t: Teardown, response: string): Promise<number> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.once('data', () => socket.write(response))
  })
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as net.AddressInfo).port
}

t.test('no Content-Length, keep-alive: the refusal, with what arrived of its body', async (t) => {
  const port = await refusingServer(t, 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nno entry')
  const started = Date.now()
  const error = await connect(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 5000 }).catch((e: unknown) => e)
  t.ok(error instanceof WebSocketHandshakeError)
  t.match(error, { statusCode: 403, body: 'no entry', message: 'Unexpected server response: 403' })
  t.ok(Date.now() - started < 2000, 'at once, not after the handshake timeout')
})

t.test('a chunked refusal is read to its last chunk and de-chunked', async (t) => {
  const port = await refusingServer(t, 'HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nlog \r\n6\r\nin fir\r\n2\r\nst\r\n0\r\n\r\n')
  const error = await connect(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 5000 }).catch((e: unknown) => e)
  t.match(error, { statusCode: 401, body: 'log in first' })
})

t.test('a refusal whose body never completes is still reported as the refusal at the timeout', async (t) => {
  const port = await refusingServer(t, 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\npartial')
  const error = await connect(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 300 }).catch((e: unknown) => e)
  t.match(error, { statusCode: 503, body: 'partial' }, 'status and what arrived, not "timed out"')
})
