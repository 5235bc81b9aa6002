// Hostile handshakes over real sockets: oversized heads are refused by Node's parser before
// any of our code runs, a huge but legal subprotocol list is parsed in linear time, and the
// server keeps serving everyone else.
import t from 'tap'
import http from 'node:http'
import { buildApp } from '../helpers/app.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'

async function stillServes (port: number): Promise<number> {
  const { client, response } = await RawClient.open(port, '/echo')
  client.destroy()
  return response.statusCode
}

t.test('thousands of headers: 431 and the socket is closed; others are still served', async (t) => {
  const { port } = await buildApp(t)
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  const extra = Array.from({ length: 5000 }, (_v, i) => `X-Filler-${i}: ${i}\r\n`).join('')
  const request = handshakeRequest({ path: '/echo' }).toString('latin1').replace('\r\n\r\n', `\r\n${extra}\r\n`)
  client.write(request)
  const response = await client.readResponse()
  t.equal(response.statusCode, 431)
  await client.waitClosed()
  t.equal(await stillServes(port), 101)
})

t.test('a huge header value: 431 and the socket is closed', async (t) => {
  const { port } = await buildApp(t)
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  const request = handshakeRequest({ path: '/echo' }).toString('latin1').replace('\r\n\r\n', `\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`)
  client.write(request)
  t.equal((await client.readResponse()).statusCode, 431)
  await client.waitClosed()
  t.equal(await stillServes(port), 101)
})

t.test('a 100 KiB Sec-WebSocket-Protocol of spaces and commas (server allows big heads): parsed, upgraded', async (t) => {
  const { port } = await buildApp(t, {
    plugin: { protocols: ['chat'] },
    fastify: { serverFactory: (handler) => http.createServer({ maxHeaderSize: 512 * 1024 }, handler) }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  const junk = ' ,'.repeat(50 * 1024)
  const request = handshakeRequest({ path: '/echo' }).toString('latin1').replace('\r\n\r\n', `\r\nSec-WebSocket-Protocol: ${junk}chat${junk}\r\n\r\n`)
  client.write(request)
  const response = await client.readResponse(5000)
  t.equal(response.statusCode, 101)
  t.equal(response.headers['sec-websocket-protocol'], 'chat', 'the one real token among 100 KiB of separators')
})
