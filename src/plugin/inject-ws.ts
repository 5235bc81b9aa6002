import { stringify } from 'node:querystring'
import { Server as TlsServer } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import { createDuplexPair, openClient, type WebSocket } from '../connection/index.js'

/** Options for `app.injectWS(path, options)`: what the test client sends. */
export interface InjectWSOptions {
  /**
   * Request headers (authorization, cookie, host...). The handshake headers are set for you;
   * `host` defaults to `localhost`.
   */
  headers?: Record<string, string | readonly string[]>
  /** Query string parameters, appended to the path. */
  query?: Record<string, string | number | boolean | ReadonlyArray<string | number | boolean>>
  /** Subprotocols to offer, in order of preference. */
  protocols?: readonly string[]
  /** Largest message the test client accepts, in bytes. @default 1 MiB */
  maxMessageSize?: number
}

/** Hooks into the test client's life, as @fastify/websocket's `injectWS` has them. */
export interface InjectWSHooks {
  /** Called with the client socket before any event can reach it (attach listeners here). */
  onInit?: (socket: WebSocket) => void
  /** Called once the connection is open, right after `onInit`, before the promise resolves. */
  onOpen?: (socket: WebSocket) => void
}

/**
 * Connects to a websocket route with no listening port: one end of an in-memory Duplex pair
 * is handed to Fastify's HTTP server as a new connection, so the request goes through Node's
 * HTTP parser, the upgrade listener, routing and every hook exactly like a real one. Resolves
 * to a client WebSocket once the 101 has been checked; rejects with a WebSocketHandshakeError
 * carrying `statusCode`, `headers` and `body` when the upgrade is refused.
 */
export async function injectWS (
  fastify: FastifyInstance,
  path = '/',
  options: InjectWSOptions = {},
  hooks: InjectWSHooks = {}
): Promise<WebSocket> {
  assertKnownInjectOptions(options)
  await fastify.ready()
  const [clientEnd, serverEnd] = createDuplexPair()
  const server = fastify.server
  if (server instanceof TlsServer) {
    // An HTTPS server parses HTTP only after TLS: its 'connection' listener would start a TLS
    // handshake on our plain stream. 'secureConnection' is where decrypted sockets go.
    (serverEnd as typeof serverEnd & { encrypted: boolean }).encrypted = true
    server.emit('secureConnection', serverEnd)
  } else {
    server.emit('connection', serverEnd)
  }
  let url = path.startsWith('/') ? path : `/${path}`
  if (options.query !== undefined) {
    const query = stringify(options.query as Record<string, string>)
    if (query !== '') url += (url.includes('?') ? '&' : '?') + query
  }
  const host = headerValue(options.headers, 'host') ?? 'localhost'
  const socket = await openClient(clientEnd, {
    host,
    path: url,
    headers: options.headers,
    protocols: options.protocols,
    maxMessageSize: options.maxMessageSize
  })
  hooks.onInit?.(socket)
  hooks.onOpen?.(socket)
  return socket
}

const INJECT_OPTION_KEYS = new Set(['headers', 'query', 'protocols', 'maxMessageSize'])

/**
 * @fastify/websocket spreads its `upgradeContext` onto a fake request; here the request is a
 * real one, built from these options only. Any other key would be silently ignored: refused.
 */
function assertKnownInjectOptions (options: InjectWSOptions): void {
  for (const key of Object.keys(options)) {
    if (!INJECT_OPTION_KEYS.has(key)) {
      throw new TypeError(`injectWS: unknown option "${key}" (known: ${[...INJECT_OPTION_KEYS].join(', ')}; put request headers under headers)`)
    }
  }
}

/** A header from a user's header object, whatever the case of its name. */
function headerValue (headers: InjectWSOptions['headers'], name: string): string | undefined {
  if (headers === undefined) return undefined
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue
    const value = headers[key]
    return typeof value === 'string' ? value : value[0]
  }
  return undefined
}
