// `npm start`: the chat on PORT (default 3000) and HOST (default 127.0.0.1).
//
//   COOKIE_SECRET    signs sessions (default: a random one per process; sessions end at restart)
//   REDIS_URL        redis://host:port: rooms span every instance using that Redis
//   ALLOWED_ORIGINS  comma-separated page origins, instead of "the page's own origin"
//   LOG_LEVEL        default info
import { randomBytes } from 'node:crypto'
import { buildChatApp } from './app.js'
import { parseAllowedOrigins } from './same-origin.js'

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'

const app = await buildChatApp({
  cookieSecret: process.env.COOKIE_SECRET ?? randomBytes(32).toString('base64url'),
  allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS),
  redisUrl: process.env.REDIS_URL,
  logger: { level: process.env.LOG_LEVEL ?? 'info' }
})
if (process.env.COOKIE_SECRET === undefined) {
  app.log.warn('COOKIE_SECRET is not set: using a random secret generated for this process (sessions end when it restarts; instances sharing a Redis need one same secret)')
}
if (process.env.REDIS_URL !== undefined) app.log.info('rooms are shared through Redis (REDIS_URL)')

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down')
    app.close().then(() => process.exit(0), (error) => {
      app.log.error(error, 'shutdown failed')
      process.exit(1)
    })
  })
}

await app.listen({ port, host })
const address = app.server.address()
const listeningPort = typeof address === 'object' && address !== null ? address.port : port
// On all interfaces (0.0.0.0, ::) there is no one address to show: this machine's loopback works.
const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
const url = `http://${shownHost}:${listeningPort}/`
app.log.info({ url }, `chat ready: open ${url} in two browser windows`)
