import { stringify } from 'node:querystring'
import type { FastifyInstance } from 'fastify'
import { createDuplexPair, openClient, type WebSocket } from '../connection/index.js'

/** Options for `app.injectWS(path, options)`. */
export interface InjectWSOptions {
  /** Request headers (authorization, cookie...). The handshake headers are set for you. */
  headers?: Record<string, string | readonly string[]>
  /** Query string parameters, appended to the path. */
  query?: Record<string, string | number | boolean | ReadonlyArray<string | number | boolean>>
  /** Subprotocols to offer, in order of preference. */
  protocols?: readonly string[]
  /** Largest message the test client accepts, in bytes. @default 1 MiB */
  maxMessageSize?: number
}

/**
 * Connects to a websocket route with no listening port: one end of an in-memory Duplex pair
 * is handed to Fastify's HTTP server as a new connection, so the request goes through Node's
 * HTTP parser, the upgrade listener, routing and every hook exactly like a real one. Resolves
 * to a client WebSocket once the 101 has been checked; rejects with a WebSocketHandshakeError
 * carrying `statusCode`, `headers` and `body` when the upgrade is refused.
 */
export async function injectWS (fastify: FastifyInstance, path = '/', options: InjectWSOptions = {}): Promise<WebSocket> {
  await fastify.ready()
  const [clientEnd, serverEnd] = createDuplexPair()
  fastify.server.emit('connection', serverEnd)
  let url = path.startsWith('/') ? path : `/${path}`
  if (options.query !== undefined) {
    const query = stringify(options.query as Record<string, string>)
    if (query !== '') url += (url.includes('?') ? '&' : '?') + query
  }
  return await openClient(clientEnd, {
    host: 'localhost',
    path: url,
    headers: options.headers,
    protocols: options.protocols,
    maxMessageSize: options.maxMessageSize
  })
}
