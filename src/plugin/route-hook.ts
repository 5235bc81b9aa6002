import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { acceptUpgrade, connectionSettings, type AnyWebSocketHandler } from './accept-upgrade.js'
import { ConfigErrorCode, FastifyWebSocketConfigError } from './errors.js'
import { resolveConnectionOptions, type WebSocketRouteOptions } from './options.js'
import type { PluginState } from './plugin-state.js'
import { assertKnownRouteKeys } from './option-keys.js'
import { runUpgradeCheck } from './upgrade-check.js'
import { buildMessageCodec, type TypedMessageRoute } from './message-schema.js'
import type { ConnectionSettings, InvalidMessagePolicy } from '../connection/index.js'

type HttpHandler = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown

interface WebSocketRouteFields {
  websocket?: boolean | WebSocketRouteOptions
  wsHandler?: AnyWebSocketHandler
  messageSchema?: unknown
  sendSchema?: unknown
  allowBinaryMessages?: unknown
  onInvalidMessage?: unknown
}

/**
 * The `onRoute` hook: a route with `websocket: true` (or a route options object) or a
 * `wsHandler` becomes a websocket route. Its handler is replaced by one that upgrades
 * requests that came through the upgrade listener, and for plain HTTP requests runs the
 * route's HTTP `handler` (when it also has a `wsHandler`) or answers 426 Upgrade Required.
 */
export function createRouteHook (state: PluginState) {
  return function onRoute (routeOptions: RouteOptions): void {
    const route = routeOptions as RouteOptions & WebSocketRouteFields
    const { websocket, wsHandler } = route
    if ((websocket === undefined || websocket === false) && wsHandler === undefined) return
    assertKnownRouteKeys(route.url, websocket)
    if (wsHandler === undefined) hideFromDocumentation(route)

    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (!methods.includes('GET')) {
      // HEAD routes are added by Fastify for GET routes, with the GET route's original
      // handler: for `{ websocket: true }` that is the websocket handler, which must never be
      // called as (request, reply). HEAD cannot upgrade; it gets what a plain GET would.
      if (methods.length === 1 && methods[0] === 'HEAD') {
        if (wsHandler === undefined) route.handler = upgradeRequired as RouteOptions['handler']
        return
      }
      throw new FastifyWebSocketConfigError(
        ConfigErrorCode.InvalidRouteMethod,
        `websocket route ${route.url} must accept GET (RFC 6455 §4.1), got ${methods.join(', ')}`
      )
    }
    const upgradeHandler = (wsHandler ?? route.handler) as AnyWebSocketHandler | undefined
    if (typeof upgradeHandler !== 'function') {
      throw new FastifyWebSocketConfigError(ConfigErrorCode.MissingHandler, `websocket route ${route.url} needs a handler`)
    }
    const httpHandler = wsHandler !== undefined ? route.handler as HttpHandler : undefined
    const options = typeof websocket === 'object' && websocket !== null
      ? resolveConnectionOptions(websocket, state.options)
      : state.options
    state.routes.add(route.url, options.originCheck)
    const typed = typedMessageRoute(route)
    // Built on the route's first upgrade (the codec with the app's compilers), then shared by
    // its sockets: a connection keeps this object, not one of its own.
    let settings: ConnectionSettings | undefined

    route.handler = function websocketRouteHandler (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const pending = state.upgrades.get(request.raw)
      if (pending !== undefined) {
        settings ??= connectionSettings(this, state, options, request.routeOptions.url ?? request.url, typed === undefined ? undefined : buildMessageCodec(typed, request, reply))
        if (state.upgradeCheck === undefined) return acceptUpgrade(this, state, pending, request, reply, options, upgradeHandler, settings)
        const routeSettings = settings
        return runUpgradeCheck(state.upgradeCheck, request, reply, () => acceptUpgrade(this, state, pending, request, reply, options, upgradeHandler, routeSettings))
      }
      if (httpHandler !== undefined) return httpHandler.call(this, request, reply)
      return upgradeRequired(request, reply)
    } as RouteOptions['handler']
  }
}

/**
 * A route's typed-message options (`messageSchema`, `sendSchema`, `allowBinaryMessages`,
 * `onInvalidMessage`), checked; undefined when it has neither schema. The last two mean
 * something only with a `messageSchema`, so alone they are refused rather than ignored.
 */
function typedMessageRoute (route: RouteOptions & WebSocketRouteFields): TypedMessageRoute | undefined {
  const { messageSchema, sendSchema, allowBinaryMessages, onInvalidMessage } = route
  for (const [name, schema] of [['messageSchema', messageSchema], ['sendSchema', sendSchema]] as const) {
    if (schema !== undefined && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
      throw routeOptionError(route.url, `${name} must be a JSON Schema object`)
    }
  }
  if (allowBinaryMessages !== undefined && typeof allowBinaryMessages !== 'boolean') throw routeOptionError(route.url, 'allowBinaryMessages must be a boolean')
  if (onInvalidMessage !== undefined && onInvalidMessage !== 'close' && onInvalidMessage !== 'event') {
    throw routeOptionError(route.url, "onInvalidMessage must be 'close' or 'event'")
  }
  if (messageSchema === undefined && (allowBinaryMessages !== undefined || onInvalidMessage !== undefined)) {
    throw routeOptionError(route.url, 'allowBinaryMessages and onInvalidMessage apply to messages checked by a messageSchema: add one, or remove them')
  }
  if (messageSchema === undefined && sendSchema === undefined) return undefined
  return {
    messageSchema: messageSchema as object | undefined,
    sendSchema: sendSchema as object | undefined,
    allowBinaryMessages: allowBinaryMessages === true,
    onInvalidMessage: (onInvalidMessage ?? 'close') as InvalidMessagePolicy
  }
}

function routeOptionError (url: string, message: string): FastifyWebSocketConfigError {
  return new FastifyWebSocketConfigError(ConfigErrorCode.InvalidOption, `route ${url}: ${message}`)
}

/**
 * A websocket-only route has nothing to document as HTTP: `schema.hide` keeps it out of
 * @fastify/swagger (as @fastify/websocket does), and hooks that read `routeOptions.schema`
 * find an object. A copy: a schema object shared with other routes must not hide them too.
 */
function hideFromDocumentation (route: RouteOptions): void {
  route.schema = { ...route.schema, hide: true } as RouteOptions['schema']
}

/** The answer to plain HTTP on a websocket-only route. */
function upgradeRequired (_request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // RFC 9110 §15.5.22: 426 carries the protocol to upgrade to.
  return reply.code(426).header('upgrade', 'websocket').send({
    statusCode: 426,
    error: 'Upgrade Required',
    message: 'this route only accepts WebSocket connections'
  })
}
