/**
 * The one list of option names the plugin knows, at the top level of `register` and in a
 * route's `websocket: { ... }`, and the check that refuses any other name. Nothing a user
 * passes is silently ignored: a misspelt or foreign option fails `register` (or the route
 * definition) with FST_WS_INVALID_OPTION and a message that names what to write instead.
 *
 * Adding an option: add it to the interface in options.ts, then here. The `Record<keyof ...>`
 * types make the compiler refuse a list that forgets a key of the interface.
 */
import type { WebSocketConnectionOptions, WebSocketPluginOptions } from './options.js'
import { ConfigErrorCode, FastifyWebSocketConfigError } from './errors.js'

/** Options a route may override (`{ websocket: { ... } }`); also valid at the top level. */
export const CONNECTION_OPTION_KEYS: Readonly<Record<keyof WebSocketConnectionOptions, true>> = Object.freeze({
  maxMessageSize: true,
  closeTimeout: true,
  protocols: true,
  pingInterval: true,
  pongTimeout: true,
  idleTimeout: true,
  maxBufferedAmount: true,
  backpressurePolicy: true,
  autoPong: true,
  perMessageDeflate: true,
  allowedOrigins: true,
  requireOrigin: true
})

/** Options only `register` takes: they concern the whole plugin, not one route. */
export const PLUGIN_ONLY_OPTION_KEYS: Readonly<Record<Exclude<keyof WebSocketPluginOptions, keyof WebSocketConnectionOptions>, true>> = Object.freeze({
  handshakeTimeout: true,
  errorHandler: true,
  preClose: true,
  options: true,
  adapter: true
})

/**
 * Fastify's own `register` options: Fastify leaves them in the options object it hands to the
 * plugin, so they are not ours to refuse.
 */
export const FASTIFY_REGISTER_KEYS: ReadonlySet<string> = new Set(['prefix', 'logLevel', 'logSerializers'])

/**
 * Names that apps written for @fastify/websocket or `ws` put at the top level (or that were
 * options of older @fastify/websocket versions), with what to write here instead.
 */
const FOREIGN_TOP_LEVEL_HINTS: Readonly<Record<string, string>> = Object.freeze({
  maxPayload: 'use maxMessageSize (bytes), or put it under options: { maxPayload }',
  handleProtocols: 'use protocols (a list or a function of the offers), or put it under options: { handleProtocols }',
  verifyClient: 'put it under options: { verifyClient }, or refuse the upgrade in an onRequest hook',
  handle: 'an option of older @fastify/websocket versions: declare a route with { websocket: true } instead',
  connectionOptions: 'an option of older @fastify/websocket versions (for its stream wrapper): handlers get the socket itself'
})

const PLUGIN_KEYS: ReadonlySet<string> = new Set([...Object.keys(CONNECTION_OPTION_KEYS), ...Object.keys(PLUGIN_ONLY_OPTION_KEYS)])
const ROUTE_KEYS: ReadonlySet<string> = new Set(Object.keys(CONNECTION_OPTION_KEYS))

/** Throws FST_WS_INVALID_OPTION for the first key of `register`'s options this plugin does not know. */
export function assertKnownPluginKeys (options: object): void {
  for (const key of Object.keys(options)) {
    if (PLUGIN_KEYS.has(key) || FASTIFY_REGISTER_KEYS.has(key)) continue
    const hint = FOREIGN_TOP_LEVEL_HINTS[key] ?? closestKnown(key, PLUGIN_KEYS)
    throw new FastifyWebSocketConfigError(ConfigErrorCode.InvalidOption, `unknown option "${key}": ${hint}`)
  }
}

/**
 * Throws FST_WS_INVALID_OPTION for a route's `websocket` value that is not `true`, `false` or
 * an object of known route options.
 */
export function assertKnownRouteKeys (url: string, websocket: unknown): void {
  if (websocket === undefined || typeof websocket === 'boolean') return
  if (typeof websocket !== 'object' || websocket === null || Array.isArray(websocket)) {
    throw new FastifyWebSocketConfigError(
      ConfigErrorCode.InvalidOption,
      `route ${url}: option "websocket" must be true, false or an object of route options, got ${JSON.stringify(websocket)}`
    )
  }
  for (const key of Object.keys(websocket)) {
    if (ROUTE_KEYS.has(key)) continue
    const hint = key in PLUGIN_ONLY_OPTION_KEYS
      ? `"${key}" applies to the whole plugin: pass it to register(websocket, { ${key} })`
      : closestKnown(key, ROUTE_KEYS)
    throw new FastifyWebSocketConfigError(ConfigErrorCode.InvalidOption, `route ${url}: unknown websocket option "${key}": ${hint}`)
  }
}

/** "did you mean ...?" for a near miss (a typo), else the list of what is known. */
function closestKnown (key: string, known: ReadonlySet<string>): string {
  const near = nearestName(key, known)
  return near === undefined ? `known options are ${[...known].join(', ')}` : `did you mean "${near}"?`
}

/**
 * The name in `known` that `key` is most likely a typo of: up to a third of its letters (at
 * least two) wrong, case ignored. Undefined when nothing is that close.
 */
export function nearestName (key: string, known: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined
}

/** Levenshtein distance, for option names (a few dozen characters): two rows suffice. */
function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution))
    }
    previous = current
  }
  return previous[b.length]
}
