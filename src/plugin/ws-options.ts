/**
 * @fastify/websocket's `options` object (the settings it hands to `ws`'s WebSocketServer),
 * understood or refused. Each `ws` option either maps onto this plugin's own option (a new
 * options object is built; the caller's is never changed), becomes a pre-upgrade check
 * (`path`, `verifyClient`), or fails `register` with FST_WS_INVALID_OPTION and a message that
 * says what to do instead. Nothing is silently ignored.
 *
 * | ws option                | here                                                        |
 * | ------------------------ | ----------------------------------------------------------- |
 * | maxPayload               | maxMessageSize (0, ws's "no limit", becomes Infinity)       |
 * | perMessageDeflate        | perMessageDeflate, the value as given                       |
 * | handleProtocols          | protocols: called with (Set of offers, raw request)         |
 * | autoPong                 | autoPong                                                    |
 * | closeTimeout             | closeTimeout                                                |
 * | clientTracking           | accepted; sockets are always tracked (logged when false)    |
 * | verifyClient             | pre-upgrade check, after hooks, ws's info and callback      |
 * | path                     | pre-upgrade check: other paths get 400, as in ws (warned)   |
 * | skipUTF8Validation false | accepted (what we do); true refused                         |
 * | allowSynchronousEvents true | accepted (what we do); false refused                     |
 * | everything else          | refused with the replacement                                |
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { ConfigErrorCode, FastifyWebSocketConfigError } from './errors.js'
import { nearestName } from './option-keys.js'
import type { SelectProtocol, WebSocketPluginOptions } from './options.js'

/** What `verifyClient` gets, as `ws` builds it. */
export interface VerifyClientInfo {
  /** The request's `Origin` header, if it has one. */
  origin: string | undefined
  /** Whether the connection is TLS (`wss:`). */
  secure: boolean
  /** The raw upgrade request (`request.raw`). */
  req: IncomingMessage
}

/**
 * The callback of the two-argument `verifyClient`: `true` lets the upgrade go on; `false`
 * refuses it with `code` (default 401), `name` as the message, and extra response `headers`.
 */
export type VerifyClientCallback = (result: boolean, code?: number, name?: string, headers?: OutgoingHttpHeaders) => void

/** `ws`'s synchronous `verifyClient`: return `false` to refuse the upgrade with 401. */
export type VerifyClientSync = (info: VerifyClientInfo) => boolean

/** `ws`'s callback `verifyClient` (told apart by its two parameters, as `ws` does). */
export type VerifyClientAsync = (info: VerifyClientInfo, callback: VerifyClientCallback) => void

/**
 * Either form of `verifyClient`, as one function type so that TypeScript infers the
 * parameters of an inline `(info) => ...` as well as of `(info, callback) => ...`. Which form
 * it is is decided at run time by its declared parameters (`function.length`), as in `ws`.
 */
export type VerifyClient = (info: VerifyClientInfo, callback: VerifyClientCallback) => boolean | undefined | void | Promise<void>

/**
 * @fastify/websocket's `options`: the `ws` server settings that have a meaning here. Keys that
 * have none are typed `never` and fail `register` with FST_WS_INVALID_OPTION (see MIGRATING.md).
 */
export interface WsServerOptions {
  /**
   * Largest incoming message in bytes: becomes `maxMessageSize`. `0` means no limit, as in
   * `ws`. Note `ws`'s default is 100 MiB, this plugin's 1 MiB.
   */
  maxPayload?: number
  /** Becomes the plugin's `perMessageDeflate` option, value unchanged. */
  perMessageDeflate?: boolean | Record<string, unknown>
  /**
   * Picks the subprotocol from the client's offers (a Set, in the client's order) and the raw
   * request; becomes `protocols`. Return `false` for none. Picking a protocol the client did
   * not offer fails the handshake with 500 (`ws` would send it, and the client would fail).
   */
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false
  /**
   * Accepted. Sockets are always tracked (`app.websocketServer.clients`, and `app.close()`
   * closes them): with `false` a warning says so.
   */
  clientTracking?: boolean
  /** Becomes `autoPong`: answer pings automatically. @default true */
  autoPong?: boolean
  /** Becomes `closeTimeout` (milliseconds). */
  closeTimeout?: number
  /**
   * Runs for every upgrade that reached a websocket route, after the route's hooks and the
   * handshake checks, as `ws` runs it: `(info) => boolean` or `(info, callback)`. A refusal
   * is an HTTP response (401 by default) and the handler never runs.
   */
  verifyClient?: VerifyClient
  /**
   * As in `ws`: upgrades to websocket routes whose path (without the query) is not exactly
   * this get 400. Routes are the better tool; a warning says so, as @fastify/websocket does.
   */
  path?: string
  /** Only `false` (UTF-8 is always validated, RFC 6455 §8.1). */
  skipUTF8Validation?: false
  /** Only `true`: events are delivered as they are parsed, with `pause()` honoured between them. */
  allowSynchronousEvents?: true
  /** Not supported: the plugin serves the Fastify server's upgrades (as @fastify/websocket refuses it). */
  noServer?: never
  /** Not supported: give `host` to `app.listen()`. */
  host?: never
  /** Not supported: give `port` to `app.listen()`. */
  port?: never
  /** Not supported: give `backlog` to `app.listen()`. */
  backlog?: never
  /** Not supported: give your server to Fastify with `serverFactory`. */
  server?: never
  /** Not supported: buffered input is bounded by `maxMessageSize`. */
  maxBufferedChunks?: never
  /** Not supported: fragments cost no memory beyond their bytes, bounded by `maxMessageSize`. */
  maxFragments?: never
  /** Not supported: a server stops reading while 1 MiB of its replies (pongs too) is unsent. */
  maxPendingAutoPongs?: never
  /** Not supported: handlers get this plugin's WebSocket. */
  WebSocket?: never
}

/** The pre-upgrade checks `ws` ran: `path` and `verifyClient`. */
export interface UpgradeCheck {
  readonly path: string | undefined
  readonly verifyClient: VerifyClientSync | VerifyClientAsync | undefined
}

/** The plugin options with `options` folded in, and the checks it asked for. */
export interface FoldedPluginOptions {
  /** A new object: the caller's options, `options` removed and its mapped values added. */
  readonly options: Omit<WebSocketPluginOptions, 'options'>
  readonly upgradeCheck: UpgradeCheck | undefined
}

/** Sets the plugin option `name` from the `ws` option `wsName`, unless the user set both. */
type MapTo = (wsName: string, name: string, value: unknown) => void

/** Why each `ws` option without a meaning here is refused, and what to do instead. */
const REFUSED: Readonly<Record<string, string>> = Object.freeze({
  noServer: 'this plugin serves the upgrades of the Fastify server it is registered on (@fastify/websocket refuses noServer too); for a detached server, use the ws library directly',
  host: 'give host to app.listen({ host })',
  port: 'give port to app.listen({ port })',
  backlog: 'give backlog to app.listen({ backlog })',
  server: 'the plugin serves the Fastify server\'s own upgrades; to use your own HTTP server, hand it to Fastify with the serverFactory option',
  maxBufferedChunks: 'not needed: buffered input is bounded by maxMessageSize, and unread data waits in the kernel while reading is paused; remove it',
  maxFragments: 'not needed: fragments cost no memory beyond their bytes, which maxMessageSize bounds across the whole message; remove it',
  maxPendingAutoPongs: 'not needed: a server stops reading while 1 MiB of its replies (pongs included) waits for the peer, so a ping flood cannot grow memory; remove it',
  WebSocket: 'handlers get this plugin\'s WebSocket; wrap it in your handler, or decorate the request',
  skipUTF8Validation: 'UTF-8 is always validated (RFC 6455 §8.1: invalid text fails the connection with 1007), as the bytes arrive; remove it',
  allowSynchronousEvents: 'events are always delivered as they are parsed; call socket.pause() in a listener to stop the next one, and resume() later; remove it'
})

/** Every `ws` server option name, for "did you mean" on a typo. */
const WS_OPTION_NAMES = [
  'maxPayload', 'perMessageDeflate', 'handleProtocols', 'clientTracking', 'autoPong', 'closeTimeout', 'verifyClient',
  'path', ...Object.keys(REFUSED)
]

/**
 * Checks `pluginOptions.options` and folds it into the plugin's own options. Throws
 * FST_WS_INVALID_OPTION for a `ws` option without a meaning here, an invalid value, or a `ws`
 * option given together with the plugin option it maps to.
 */
export function foldWsServerOptions (pluginOptions: WebSocketPluginOptions, log: FastifyBaseLogger): FoldedPluginOptions {
  const { options: wsOptions, ...own } = pluginOptions
  if (wsOptions === undefined) return { options: own, upgradeCheck: undefined }
  if (typeof wsOptions !== 'object' || wsOptions === null || Array.isArray(wsOptions)) {
    throw wsOptionError('options', `must be an object of ws server options, got ${JSON.stringify(wsOptions)}`)
  }
  const folded: Record<string, unknown> = { ...own }
  const mapTo: MapTo = (wsName, name, value) => {
    if ((own as Record<string, unknown>)[name] !== undefined) {
      throw wsOptionError(wsName, `and the plugin's own "${name}" are both set: keep only ${name}`)
    }
    folded[name] = value
  }
  let verifyClient: UpgradeCheck['verifyClient']
  let path: string | undefined

  for (const [key, value] of Object.entries(wsOptions as Record<string, unknown>)) {
    if (value === undefined) continue
    switch (key) {
      case 'maxPayload':
        if (!(Number.isSafeInteger(value) && (value as number) >= 0)) {
          throw wsOptionError(key, `must be a non-negative integer (bytes; 0 means no limit, as in ws), got ${describe(value)}`)
        }
        mapTo(key, 'maxMessageSize', value === 0 ? Infinity : value)
        break
      case 'perMessageDeflate':
        foldPerMessageDeflate(value, mapTo)
        break
      case 'handleProtocols':
        if (typeof value !== 'function') throw wsOptionError(key, `must be a function, got ${describe(value)}`)
        mapTo(key, 'protocols', fromHandleProtocols(value as NonNullable<WsServerOptions['handleProtocols']>))
        break
      case 'autoPong':
        if (typeof value !== 'boolean') throw wsOptionError(key, `must be a boolean, got ${describe(value)}`)
        mapTo(key, 'autoPong', value)
        break
      case 'closeTimeout':
        // Checked with the plugin's own closeTimeout rules once folded.
        mapTo(key, 'closeTimeout', value)
        break
      case 'clientTracking':
        if (typeof value !== 'boolean') throw wsOptionError(key, `must be a boolean, got ${describe(value)}`)
        if (!value) {
          log.warn('websocket options.clientTracking: false has no effect here: the plugin always tracks its sockets (app.websocketServer.clients), so that app.close() can close them')
        }
        break
      case 'verifyClient':
        if (typeof value !== 'function') throw wsOptionError(key, `must be a function, got ${describe(value)}`)
        verifyClient = value as UpgradeCheck['verifyClient']
        break
      case 'path':
        if (typeof value !== 'string' || !value.startsWith('/')) throw wsOptionError(key, `must be a path starting with "/", got ${describe(value)}`)
        // @fastify/websocket's own warning, word for word: routes do this job.
        log.warn('ws server path option shouldn\'t be provided, use a route instead')
        path = value
        break
      case 'skipUTF8Validation':
        if (value !== false) throw wsOptionError(key, `is not supported: ${REFUSED[key]}`)
        break
      case 'allowSynchronousEvents':
        if (value !== true) throw wsOptionError(key, `is not supported: ${REFUSED[key]}`)
        break
      default:
        if (key in REFUSED) throw wsOptionError(key, `is not supported: ${REFUSED[key]}`)
        throw wsOptionError(key, `is not a ws server option this plugin knows${nearMiss(key)}`)
    }
  }
  const upgradeCheck = verifyClient === undefined && path === undefined ? undefined : Object.freeze({ verifyClient, path })
  return { options: folded as Omit<WebSocketPluginOptions, 'options'>, upgradeCheck }
}

/** `ws`'s `perMessageDeflate` is the plugin option of the same name, with the same fields. */
function foldPerMessageDeflate (value: unknown, mapTo: MapTo): void {
  mapTo('perMessageDeflate', 'perMessageDeflate', value)
}

/** `ws`'s `handleProtocols(Set, IncomingMessage)` as this plugin's protocol selector. */
function fromHandleProtocols (handleProtocols: NonNullable<WsServerOptions['handleProtocols']>): SelectProtocol {
  return function selectWithHandleProtocols (offered: string[], request: FastifyRequest) {
    return handleProtocols(new Set(offered), request.raw)
  }
}

function wsOptionError (key: string, problem: string): FastifyWebSocketConfigError {
  return new FastifyWebSocketConfigError(ConfigErrorCode.InvalidOption, `options.${key} ${problem}`)
}

function describe (value: unknown): string {
  return typeof value === 'function' ? 'a function' : JSON.stringify(value) ?? String(value)
}

/** ` (did you mean "maxPayload"?)` for a near miss of a ws option name. */
function nearMiss (key: string): string {
  const near = nearestName(key, WS_OPTION_NAMES)
  return near === undefined ? '' : ` (did you mean "${near}"?)`
}
