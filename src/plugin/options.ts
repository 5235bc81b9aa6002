import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { BackpressurePolicy, WebSocket } from '../connection/index.js'
import { resolvePerMessageDeflate, type PerMessageDeflateOptions, type ResolvedPerMessageDeflate } from '../compression/index.js'
import type { TopicAdapter } from '../adapters/index.js'
import { DEFAULT_CLOSE_TIMEOUT } from '../connection/index.js'
import { DEFAULT_MAX_MESSAGE_SIZE } from '../protocol/index.js'
import { ConfigErrorCode, FastifyWebSocketConfigError, invalidOption } from './errors.js'
import type { WsServerOptions } from './ws-options.js'
import { resolveOriginPolicy, type AllowedOrigins, type OriginCheck } from './origin-policy.js'

/**
 * Picks the subprotocol for a connection from those the client offered (in its order of
 * preference). Return one of them, or `false`/`undefined` for none.
 */
export type SelectProtocol = (offered: string[], request: FastifyRequest) => string | false | undefined

/** Called when a websocket handler throws or rejects. */
export type WebSocketErrorHandler = (
  this: FastifyInstance,
  error: unknown,
  socket: WebSocket,
  request: FastifyRequest,
  reply: FastifyReply
) => void

/** Options that can be set for the whole plugin and overridden per route. */
export interface WebSocketConnectionOptions {
  /**
   * Largest incoming message, in bytes, across all its fragments. Checked from each frame's
   * length field before buffering; a larger message fails the connection with close code 1009.
   * `Infinity` removes the limit (do not, on a public server).
   * @default 1_048_576 (1 MiB)
   */
  maxMessageSize?: number
  /**
   * Milliseconds to wait for the peer to complete a closing handshake we started (its close
   * frame, then the TCP close) before the socket is destroyed. Also bounds `app.close()`.
   * @default 5000
   */
  closeTimeout?: number
  /**
   * Subprotocols this route speaks, in the server's order of preference; the first one the
   * client also offered is selected, and none if there is no common one. A function gets the
   * offers and the request and returns its pick. The pick is sent in `Sec-WebSocket-Protocol`
   * and exposed as `socket.protocol`.
   * @default the first protocol the client offered (what `ws` does, and what browsers need:
   * Chromium fails a connection that offered a subprotocol and got none)
   */
  protocols?: readonly string[] | SelectProtocol
  /**
   * Milliseconds a peer may stay silent before it is pinged. Any frame from the peer (a
   * message, its own ping, a pong) counts as a sign of life. `false` or `Infinity`: no pings.
   * All sockets share one timer, so the error is about a quarter of the shortest interval.
   * @default 30000
   */
  pingInterval?: number | false
  /**
   * Milliseconds to wait, after a ping, for any frame from the peer; a peer that stays silent is
   * terminated and 'close' reports 1006.
   * @default 10000
   */
  pongTimeout?: number
  /**
   * Milliseconds with no message in either direction (pings do not count) after which the
   * socket is closed with 1001. `false` or `Infinity`: off.
   * @default false
   */
  idleTimeout?: number | false
  /**
   * Most bytes that may wait in a socket's outgoing queue before a send triggers
   * `backpressurePolicy`: a client that reads too slowly cannot make the server buffer without
   * bound. A single send larger than this still goes out on a shorter queue.
   * @default 8388608 (8 MiB)
   */
  maxBufferedAmount?: number
  /**
   * What a send does when the queue is over `maxBufferedAmount`: 'close' fails the connection
   * with 1008 (policy violation); 'drop' discards the message (`send` returns false and its
   * callback gets an error), for feeds where the next update replaces the last.
   * @default 'close'
   */
  backpressurePolicy?: BackpressurePolicy
  /**
   * permessage-deflate (RFC 7692): `true` for the defaults, or an object with `ws`'s names
   * (see README, "Compression"). Accepted when the client offers it (every browser does);
   * an offer we cannot honour is declined and the connection goes on uncompressed.
   * @default false
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions
  /**
   * Answer the peer's pings with pongs automatically (RFC 6455 §5.5.2). With `false`, 'ping'
   * events still arrive and the application answers with `socket.pong()` itself.
   * @default true
   */
  autoPong?: boolean
  /**
   * Which pages may open WebSockets here, by the `Origin` header browsers send: exact origins
   * (`'https://app.example.com'`) and RegExps, a RegExp, or `(origin, rawRequest) => boolean |
   * Promise<boolean>`. Anything else gets **403** before routing, hooks or the handler. Any app
   * that authenticates WebSockets with cookies should set it (cross-site WebSocket hijacking).
   * Requests without an Origin (non-browser clients) pass unless `requireOrigin` is set.
   * @default any origin
   */
  allowedOrigins?: AllowedOrigins
  /** With `allowedOrigins`: also refuse (403) upgrades that carry no `Origin` header. @default false */
  requireOrigin?: boolean
}

/** Options for `app.register(websocket, options)`. */
export interface WebSocketPluginOptions extends WebSocketConnectionOptions {
  /**
   * Milliseconds from accepting a connection to answering its WebSocket handshake (the 101 or
   * an error): covers a client that sends its request slowly and hooks that never finish. On
   * expiry the socket is destroyed. The clock stops at a connection's first plain HTTP request.
   * `Infinity` disables it.
   * @default 10000
   */
  handshakeTimeout?: number
  /**
   * Handles an error thrown or rejected by a websocket handler. Default: logs it through
   * `request.log.error` and closes the socket with 1011 (no internal detail goes to the peer).
   * A custom one also receives the socket's own errors (a peer breaking the protocol, a reset).
   * Declared as a method so that one written for @fastify/websocket's types, with
   * `error: Error`, is accepted as it is; a handler can throw anything, hence `unknown`.
   */
  errorHandler? (this: FastifyInstance, error: unknown, socket: WebSocket, request: FastifyRequest, reply: FastifyReply): void
  /**
   * Carries topics (`socket.subscribe`, `app.publish`) to the app's other instances:
   * `redisAdapter()` from `fastify-websocket-native/redis`, or your own `TopicAdapter`. Started
   * with the app, closed after its sockets. Plugin-wide only.
   * @default memoryAdapter(): this instance only
   */
  adapter?: TopicAdapter
  /**
   * Replaces the default shutdown, which closes every open connection with 1001 when
   * `app.close()` runs and waits up to `closeTimeout` for them. Called once, as a `preClose`
   * hook, with `this` the Fastify instance: either `async () => {}` or, as @fastify/websocket
   * allows, `function (done) {}` that calls `done(error?)` when finished.
   */
  preClose?: (this: FastifyInstance, done: (error?: Error) => void) => void | Promise<void>
  /**
   * @fastify/websocket's `ws` server settings, mapped onto this plugin's options where they
   * have a meaning (`maxPayload` becomes `maxMessageSize`, `handleProtocols` becomes
   * `protocols`, `verifyClient` runs before the upgrade...) and refused where they have none.
   * See `WsServerOptions` and MIGRATING.md.
   */
  options?: WsServerOptions
}

/** Per-route options: `{ websocket: true }` or `{ websocket: { ...overrides } }`. */
export type WebSocketRouteOptions = WebSocketConnectionOptions

/** Connection options with every default filled in. */
export interface ResolvedConnectionOptions {
  maxMessageSize: number
  closeTimeout: number
  protocols: readonly string[] | SelectProtocol | undefined
  /** Infinity when off. */
  pingInterval: number
  pongTimeout: number
  /** Infinity when off. */
  idleTimeout: number
  maxBufferedAmount: number
  backpressurePolicy: BackpressurePolicy
  /** null when off. */
  perMessageDeflate: ResolvedPerMessageDeflate | null
  autoPong: boolean
  /** The route's origin check (`allowedOrigins`, `requireOrigin`); undefined: any origin. */
  originCheck: OriginCheck | undefined
  allowedOrigins: AllowedOrigins | undefined
  requireOrigin: boolean | undefined
}

export const DEFAULT_PING_INTERVAL = 30_000
export const DEFAULT_PONG_TIMEOUT = 10_000
export const DEFAULT_MAX_BUFFERED_AMOUNT = 8 * 1024 * 1024

export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000

/** Checks `handshakeTimeout` and fills in its default. */
export function resolveHandshakeTimeout (value: number | undefined): number {
  if (value === undefined) return DEFAULT_HANDSHAKE_TIMEOUT
  if (value === Infinity || (Number.isSafeInteger(value) && value > 0)) return value
  throw invalidOption('handshakeTimeout', 'a positive integer (milliseconds) or Infinity', value)
}

/** Checks and freezes plugin options; never mutates the caller's object. */
export function resolvePluginOptions (options: Omit<WebSocketPluginOptions, 'options'>): ResolvedConnectionOptions {
  if (options.errorHandler !== undefined && typeof options.errorHandler !== 'function') {
    throw invalidOption('errorHandler', 'a function', options.errorHandler)
  }
  if (options.preClose !== undefined && typeof options.preClose !== 'function') {
    throw invalidOption('preClose', 'a function', options.preClose)
  }
  return resolveConnectionOptions(options, {
    maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
    closeTimeout: DEFAULT_CLOSE_TIMEOUT,
    protocols: undefined,
    pingInterval: DEFAULT_PING_INTERVAL,
    pongTimeout: DEFAULT_PONG_TIMEOUT,
    idleTimeout: Infinity,
    maxBufferedAmount: DEFAULT_MAX_BUFFERED_AMOUNT,
    backpressurePolicy: 'close',
    perMessageDeflate: null,
    autoPong: true,
    originCheck: undefined,
    allowedOrigins: undefined,
    requireOrigin: undefined
  })
}

/** Applies `overrides` (plugin or route options) on top of `base`, validating each one. */
export function resolveConnectionOptions (
  overrides: WebSocketConnectionOptions,
  base: ResolvedConnectionOptions
): ResolvedConnectionOptions {
  const { maxMessageSize, closeTimeout, protocols, pongTimeout, maxBufferedAmount, backpressurePolicy, autoPong } = overrides
  const pingInterval = optionalDuration('pingInterval', overrides.pingInterval)
  const idleTimeout = optionalDuration('idleTimeout', overrides.idleTimeout)
  if (pongTimeout !== undefined && !(Number.isSafeInteger(pongTimeout) && pongTimeout > 0)) {
    throw invalidOption('pongTimeout', 'a positive integer (milliseconds)', pongTimeout)
  }
  if (maxBufferedAmount !== undefined && !(maxBufferedAmount === Infinity || (Number.isSafeInteger(maxBufferedAmount) && maxBufferedAmount > 0))) {
    throw invalidOption('maxBufferedAmount', 'a positive integer (bytes) or Infinity', maxBufferedAmount)
  }
  if (backpressurePolicy !== undefined && backpressurePolicy !== 'close' && backpressurePolicy !== 'drop') {
    throw invalidOption('backpressurePolicy', "'close' or 'drop'", backpressurePolicy)
  }
  if (maxMessageSize !== undefined && !(maxMessageSize === Infinity || (Number.isSafeInteger(maxMessageSize) && maxMessageSize >= 0))) {
    throw invalidOption('maxMessageSize', 'a non-negative integer (bytes) or Infinity', maxMessageSize)
  }
  if (closeTimeout !== undefined && !(Number.isSafeInteger(closeTimeout) && closeTimeout >= 0)) {
    throw invalidOption('closeTimeout', 'a non-negative integer (milliseconds)', closeTimeout)
  }
  if (protocols !== undefined && typeof protocols !== 'function' &&
      !(Array.isArray(protocols) && protocols.every((p) => typeof p === 'string' && p.length > 0))) {
    throw invalidOption('protocols', 'an array of subprotocol names or a function', protocols)
  }
  if (autoPong !== undefined && typeof autoPong !== 'boolean') throw invalidOption('autoPong', 'a boolean', autoPong)
  return Object.freeze({
    maxMessageSize: maxMessageSize ?? base.maxMessageSize,
    closeTimeout: closeTimeout ?? base.closeTimeout,
    protocols: protocols === undefined ? base.protocols : (Array.isArray(protocols) ? Object.freeze([...protocols]) : protocols),
    pingInterval: pingInterval ?? base.pingInterval,
    pongTimeout: pongTimeout ?? base.pongTimeout,
    idleTimeout: idleTimeout ?? base.idleTimeout,
    maxBufferedAmount: maxBufferedAmount ?? base.maxBufferedAmount,
    backpressurePolicy: backpressurePolicy ?? base.backpressurePolicy,
    perMessageDeflate: overrides.perMessageDeflate === undefined ? base.perMessageDeflate : perMessageDeflate(overrides.perMessageDeflate),
    autoPong: autoPong ?? base.autoPong,
    ...originPolicy(overrides, base)
  })
}

/** A route's `allowedOrigins` / `requireOrigin`, each falling back to the plugin's. */
function originPolicy (overrides: WebSocketConnectionOptions, base: ResolvedConnectionOptions): Pick<ResolvedConnectionOptions, 'originCheck' | 'allowedOrigins' | 'requireOrigin'> {
  if (overrides.allowedOrigins === undefined && overrides.requireOrigin === undefined) {
    return { originCheck: base.originCheck, allowedOrigins: base.allowedOrigins, requireOrigin: base.requireOrigin }
  }
  const allowedOrigins = overrides.allowedOrigins ?? base.allowedOrigins
  const requireOrigin = overrides.requireOrigin ?? base.requireOrigin
  return { originCheck: resolveOriginPolicy(allowedOrigins, requireOrigin), allowedOrigins, requireOrigin }
}

/** Validates `perMessageDeflate`; its precise complaint becomes an FST_WS_INVALID_OPTION. */
function perMessageDeflate (value: boolean | PerMessageDeflateOptions): ResolvedPerMessageDeflate | null {
  try {
    return resolvePerMessageDeflate(value)
  } catch (error) {
    throw new FastifyWebSocketConfigError(ConfigErrorCode.InvalidOption, (error as Error).message)
  }
}

/** A duration that may be switched off with `false` or `Infinity` (returned as Infinity). */
function optionalDuration (name: string, value: number | false | undefined): number | undefined {
  if (value === undefined) return undefined
  if (value === false || value === Infinity) return Infinity
  if (Number.isSafeInteger(value) && value > 0) return value
  throw invalidOption(name, 'a positive integer (milliseconds), Infinity or false', value)
}

/**
 * Applies the route's subprotocol policy to the client's offers. Without a policy, the
 * client's first offer is selected, as `ws` does: RFC 6455 §4.2.2 leaves the choice to the
 * server, and browsers fail a connection that offered subprotocols and got none. Throws if a
 * selection function picks something the client did not offer: that would break the client
 * (§4.1).
 */
export function selectProtocol (
  policy: ResolvedConnectionOptions['protocols'],
  offered: string[],
  request: FastifyRequest
): string | undefined {
  if (offered.length === 0) return undefined
  if (policy === undefined) return offered[0]
  if (typeof policy === 'function') {
    const picked = policy(offered, request)
    if (picked === false || picked === undefined) return undefined
    if (!offered.includes(picked)) throw new Error(`selected subprotocol "${picked}" was not offered by the client`)
    return picked
  }
  for (const candidate of policy) {
    if (offered.includes(candidate)) return candidate
  }
  return undefined
}
