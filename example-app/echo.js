// The echo server: every message goes back as it came (text as text, binary as binary).
// Conformance suites and browsers are pointed at it: `PORT=9001 npm run echo`.
import Fastify from 'fastify'
import websocket from 'fastify-websocket-native'

const port = Number(process.env.PORT ?? 9001)
const host = process.env.HOST ?? '0.0.0.0'

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })
// Conformance suites send 16 MiB messages; allow up to 64 MiB here.
// DEFLATE=1 offers permessage-deflate to clients that ask for it (browsers, conformance suites'
// compression cases); clients that do not offer it are unaffected.
await app.register(websocket, { maxMessageSize: 64 * 1024 * 1024, perMessageDeflate: process.env.DEFLATE === '1' })

app.get('/', { websocket: true }, (socket) => {
  socket.on('message', (data, isBinary) => {
    socket.send(data, { binary: isBinary })
  })
})

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down')
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}

await app.listen({ port, host })
