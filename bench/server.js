// Benchmark echo server, built the way users run the plugin: Fastify with logging off, the
// plugin, GET / echoing every message as received (text as text, binary as binary).
// `npm run bench:server`; PORT (default 9001) and HOST (default 127.0.0.1), DEFLATE=1, PING_INTERVAL.
import Fastify from 'fastify'
import websocket from 'fastify-websocket-native'

const port = Number(process.env.PORT ?? 9001)
const host = process.env.HOST ?? '127.0.0.1'

const app = Fastify({ logger: false })
// Up to 64 MiB messages: benchmarks and conformance suites send 16 MiB ones.
// DEFLATE=1 offers permessage-deflate to clients that ask for it (browsers, conformance suites'
// compression cases); clients that do not offer it are unaffected.
// PING_INTERVAL (ms) sets the heartbeat's ping interval (bench/idle-capacity.js); the plugin's
// default (30 s) otherwise.
await app.register(websocket, {
  maxMessageSize: 64 * 1024 * 1024,
  perMessageDeflate: process.env.DEFLATE === '1',
  ...(process.env.PING_INTERVAL === undefined ? {} : { pingInterval: Number(process.env.PING_INTERVAL) })
})

app.get('/', { websocket: true }, (socket) => {
  socket.on('message', (data, isBinary) => {
    socket.send(data, { binary: isBinary })
  })
})

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}

await app.listen({ port, host })
process.stdout.write(`bench server listening on ${host}:${port}\n`)
