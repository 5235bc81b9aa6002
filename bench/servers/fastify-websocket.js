// Benchmark echo server on @fastify/websocket: Fastify({ logger: false }), GET / with
// { websocket: true }, every message echoed as received (text as text, binary as binary),
// messages up to 64 MiB, nothing logged per message, exits on SIGTERM.
// PORT (default 9001), HOST (default 127.0.0.1), DEFLATE=1 for permessage-deflate.
import Fastify from 'fastify'
import websocket from '@fastify/websocket'

const port = Number(process.env.PORT ?? 9001)
const host = process.env.HOST ?? '127.0.0.1'

const app = Fastify({ logger: false })
// DEFLATE=1 turns on permessage-deflate (ws's defaults: 1 KiB threshold, context takeover).
await app.register(websocket, { options: { maxPayload: 64 * 1024 * 1024, perMessageDeflate: process.env.DEFLATE === '1' } })

app.get('/', { websocket: true }, (socket) => {
  socket.on('error', () => {}) // a client that vanishes mid-frame must not crash the server
  socket.on('message', (data, isBinary) => {
    socket.send(data, { binary: isBinary })
  })
})

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    setTimeout(() => process.exit(0), 2000).unref()
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}

await app.listen({ port, host })
process.stdout.write(`@fastify/websocket echo server listening on ${host}:${port}\n`)
