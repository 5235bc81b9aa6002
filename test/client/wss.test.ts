/**
 * wss://: our client over TLS against a `ws` server on an HTTPS server (127.0.0.1, port 0),
 * with a self-signed certificate made for these tests (openssl, EC P-256, CN=localhost).
 */
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { WebSocketServer } from 'ws'
import { connect, type WebSocket } from '../../src/index.js'
import { EVENTS, EventLog, WAIT, deferred, withTimeout } from '../helpers/wait.js'
import { pattern } from '../helpers/payloads.js'
import { CERT, KEY } from '../helpers/tls.js'
import type { Teardown } from '../helpers/teardown.js'

async function secureServer (t: Teardown) {
  const server = https.createServer({ key: KEY, cert: CERT })
  const wss = new WebSocketServer({ server })
  const alpn = deferred<string | false | null>()
  server.on('secureConnection', (socket) => alpn.resolve(socket.alpnProtocol))
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })))
  t.teardown(async () => {
    for (const client of wss.clients) client.terminate()
    wss.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  await withTimeout(new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), WAIT, 'https server listening')
  return { url: `wss://127.0.0.1:${(server.address() as AddressInfo).port}`, alpn }
}

t.test('wss:// echo over TLS', async (t) => {
  const { url, alpn } = await secureServer(t)
  const socket: WebSocket = await withTimeout(connect(`${url}/secure`, { tls: { rejectUnauthorized: false } }), WAIT, 'connect')
  t.teardown(() => socket.terminate())
  const log = new EventLog(socket, EVENTS)
  t.equal(await alpn.wait(), 'http/1.1', 'the client offers http/1.1 over ALPN')
  socket.send('over tls')
  const sent = pattern(70000)
  socket.send(sent)
  const [text, isBinary] = await log.nth('message') as [Buffer, boolean]
  t.equal(text.toString(), 'over tls')
  t.equal(isBinary, false)
  const [bin] = await log.nth('message', 2) as [Buffer, boolean]
  t.ok(bin.equals(sent), '70000 bytes round trip')
  socket.close(1000)
  t.equal((await log.nth('close'))[0], 1000)
})

t.test('wss:// verifies the certificate by default', async (t) => {
  const { url } = await secureServer(t)
  const result = await withTimeout(connect(url).then(
    (socket) => { socket.terminate(); return null },
    (error: unknown) => error
  ), WAIT, 'connect to settle')
  t.type(result, Error, 'a self-signed certificate is refused')
  t.ok(typeof (result as NodeJS.ErrnoException).code === 'string', `a TLS error code (${String((result as NodeJS.ErrnoException | null)?.code)})`)
})
