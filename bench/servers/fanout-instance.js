// One app instance for bench/redis-fanout-e2e.js: Fastify with logging off, the plugin, GET /sub
// subscribes its socket to the topic `fanout`, GET /pub publishes every message it receives to
// it (as binary). With REDIS_URL the topic spans every instance on that Redis (redisAdapter).
// PORT and HOST; prints `ready` when listening; exits on SIGTERM after app.close().
import Fastify from 'fastify'
import websocket from 'fastify-websocket-native'

const TOPIC = 'fanout'
const app = Fastify({ logger: false })
const adapter = process.env.REDIS_URL === undefined
  ? undefined
  : (await import('fastify-websocket-native/redis')).redisAdapter({ url: process.env.REDIS_URL })
// Bursts queue up in the sockets' write buffers: room for them; heartbeats out of the way.
await app.register(websocket, { adapter, maxBufferedAmount: 64 * 1024 * 1024, pingInterval: false })
// (The socket types are spelled out: this folder is type-checked together with the
// @fastify/websocket server, whose route types would otherwise win.)
app.get('/sub', { websocket: true }, (/** @type {import('fastify-websocket-native').WebSocket} */ socket) => { socket.subscribe(TOPIC) })
app.get('/pub', { websocket: true }, (/** @type {import('fastify-websocket-native').WebSocket} */ socket) => {
  socket.on('message', (data) => { app.publish(TOPIC, data, { binary: true }) })
})
process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
await app.listen({ port: Number(process.env.PORT), host: process.env.HOST ?? '127.0.0.1' })
process.stdout.write('ready\n')
