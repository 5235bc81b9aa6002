// Benchmark echo server on @fastify/websocket: Fastify({ logger: false }), GET / with
// { websocket: true }, every message echoed as received (text as text, binary as binary),
// messages up to 64 MiB, nothing logged per message, exits on SIGTERM.
// PORT (default 9001), HOST (default 127.0.0.1), DEFLATE=1 for permessage-deflate, PING_INTERVAL
// for a heartbeat.
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

// PING_INTERVAL (ms): the heartbeat @fastify/websocket users write, as `ws`'s README shows it
// (it has none of its own): every interval, terminate the sockets that did not answer the
// previous ping and ping the others (bench/idle-capacity.js).
if (process.env.PING_INTERVAL !== undefined) {
  const alive = new WeakSet()
  /** @type {NodeJS.Timeout | undefined} */
  let timer
  app.addHook('onClose', async () => clearInterval(timer))
  app.addHook('onReady', async () => {
    const clients = app.websocketServer.clients
    timer = setInterval(() => {
      for (const socket of clients) {
        if (!alive.has(socket)) { socket.terminate(); continue }
        alive.delete(socket)
        socket.ping()
      }
    }, Number(process.env.PING_INTERVAL))
    app.websocketServer.on('connection', (socket) => {
      alive.add(socket)
      socket.on('pong', () => alive.add(socket))
    })
  })
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    setTimeout(() => process.exit(0), 2000).unref()
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}

await app.listen({ port, host })
process.stdout.write(`@fastify/websocket echo server listening on ${host}:${port}\n`)
