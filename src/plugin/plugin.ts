import type { Server as HttpServer } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ConnectionRegistry } from './connection-registry.js'
import { resolveHandshakeTimeout, resolvePluginOptions, type WebSocketPluginOptions } from './options.js'
import { HandshakeTimeouts } from './handshake-timeout.js'
import type { PluginState } from './plugin-state.js'
import { createRouteHook } from './route-hook.js'
import { RouteMatcher } from './route-matcher.js'
import { createUpgradeListener } from './upgrade-listener.js'
import { injectWS, type InjectWSHooks, type InjectWSOptions } from './inject-ws.js'
import { HeartbeatScheduler, TopicRegistry, TrafficCounters, keyedPool, type PublishOptions, type WebSocketData } from '../connection/index.js'
import { collectStats } from './server-stats.js'
import { resolveAdapter, wireAdapter } from './topic-adapter-setup.js'
import { ZlibConcurrencyLimiter } from '../compression/index.js'
import { assertKnownPluginKeys } from './option-keys.js'
import { callPreClose } from './pre-close.js'
import { WebSocketServer } from './websocket-server.js'
import { foldWsServerOptions } from './ws-options.js'
import type { ResolvedConnectionOptions } from './options.js'

async function websocketPlugin (fastify: FastifyInstance, options: WebSocketPluginOptions): Promise<void> {
  assertKnownPluginKeys(options)
  const folded = foldWsServerOptions(options, fastify.log)
  const pluginOptions = folded.options
  const resolved = resolvePluginOptions(pluginOptions)
  const shared = {
    options: resolved,
    errorHandler: pluginOptions.errorHandler,
    registry: new ConnectionRegistry(),
    routes: new RouteMatcher(fastify),
    handshakeTimeouts: new HandshakeTimeouts(resolveHandshakeTimeout(pluginOptions.handshakeTimeout)),
    upgrades: new WeakMap(),
    topics: new TopicRegistry(),
    adapter: resolveAdapter(pluginOptions.adapter),
    counters: new TrafficCounters(),
    refusedByStatus: new Map(),
    heartbeatFor: heartbeatPool(),
    zlibLimiter: zlibLimiterPool(),
    refusing: undefined as string | undefined,
    upgradeCheck: folded.upgradeCheck,
    stats: () => collectStats(state)
  }
  const server = new WebSocketServer(shared, fastify.log)
  const state: PluginState = Object.assign(shared, { server })

  fastify.decorate('websocketServer', server)
  fastify.decorate('publish', function (topic: string, data: WebSocketData, publishOptions?: PublishOptions): number {
    return state.topics.publish(topic, data, publishOptions)
  })
  // `request.ws` tells hooks whether the request is a WebSocket upgrade (as in @fastify/websocket).
  fastify.decorateRequest('ws', {
    getter (this: FastifyRequest): boolean {
      return state.upgrades.has(this.raw)
    }
  })
  fastify.decorate('injectWS', function (this: FastifyInstance, path?: string, injectOptions?: InjectWSOptions, hooks?: InjectWSHooks) {
    return injectWS(this, path, injectOptions, hooks)
  })
  fastify.addHook('onRoute', createRouteHook(state))
  wireAdapter(fastify, state.adapter, state.topics)

  const onUpgrade = createUpgradeListener(fastify, state)
  fastify.server.on('upgrade', onUpgrade)
  const detachHandshakeTimeouts = [state.handshakeTimeouts.attach(fastify.server)]
  // With a host like `localhost`, Fastify listens on each of its addresses with one server
  // each; upgrades on the others are forwarded to the main server's listener, but their
  // connections must be timed too.
  fastify.addHook('onListen', function guardEveryServer (this: FastifyInstance) {
    for (const server of secondaryServers(this)) detachHandshakeTimeouts.push(state.handshakeTimeouts.attach(server))
  })

  // preClose runs before the HTTP server stops: open WebSockets would otherwise keep
  // server.close() waiting forever.
  const userPreClose = pluginOptions.preClose
  fastify.addHook('preClose', async function closeWebSockets (this: FastifyInstance) {
    state.refusing = 'server is shutting down'
    if (userPreClose !== undefined) {
      await callPreClose(userPreClose, this)
      return
    }
    await state.registry.closeAll()
    // As @fastify/websocket's default: the server is closed too ('close' is emitted).
    server.close()
  })
  fastify.addHook('onClose', async () => {
    fastify.server.removeListener('upgrade', onUpgrade)
    for (const detach of detachHandshakeTimeouts) detach()
  })
}

/**
 * The servers Fastify listens with besides `fastify.server` (one per extra address of the
 * host). Fastify keeps them under an internal symbol; found by its description, and empty if
 * a future Fastify moves them.
 */
function secondaryServers (fastify: FastifyInstance): HttpServer[] {
  const symbol = Object.getOwnPropertySymbols(fastify).find((s) => s.description === 'fastify.serverBindings')
  const bindings = symbol === undefined ? undefined : (fastify as unknown as Record<symbol, unknown>)[symbol]
  if (!Array.isArray(bindings)) return []
  return bindings.filter((server): server is HttpServer => server !== fastify.server && typeof server?.on === 'function')
}

/** Schedulers are shared by every route with the same heartbeat settings. */
function heartbeatPool (): (options: ResolvedConnectionOptions) => HeartbeatScheduler {
  const pool = keyedPool<string, HeartbeatScheduler>()
  return ({ pingInterval, pongTimeout, idleTimeout }) =>
    pool(`${pingInterval}/${pongTimeout}/${idleTimeout}`, () => new HeartbeatScheduler({ pingInterval, pongTimeout, idleTimeout }))
}

/** One thread-pool limit per `concurrencyLimit` value, per plugin instance. */
function zlibLimiterPool (): (limit: number) => ZlibConcurrencyLimiter {
  const pool = keyedPool<number, ZlibConcurrencyLimiter>()
  return (limit) => pool(limit, () => new ZlibConcurrencyLimiter(limit))
}

/** The plugin: `await app.register(websocket, options)`. */
export const websocket = fp(websocketPlugin, {
  fastify: '5.x',
  name: 'fastify-websocket-native'
})
