import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ConnectionRegistry } from './connection-registry.js'
import type { ResolvedConnectionOptions, WebSocketErrorHandler } from './options.js'
import type { RouteMatcher } from './route-matcher.js'
import type { HandshakeTimeouts } from './handshake-timeout.js'
import type { HeartbeatScheduler, TopicRegistry, TrafficCounters } from '../connection/index.js'
import type { TopicAdapter } from '../adapters/index.js'
import type { ZlibConcurrencyLimiter } from '../compression/index.js'
import type { UpgradeCheck } from './ws-options.js'
import type { WebSocketServer } from './websocket-server.js'

/** The raw socket and early bytes of an upgrade request while Fastify routes it. */
export interface PendingUpgrade {
  socket: Duplex
  head: Buffer
}

/** Everything one registration of the plugin shares between its parts. */
export interface PluginState {
  readonly options: ResolvedConnectionOptions
  readonly errorHandler: WebSocketErrorHandler | undefined
  readonly registry: ConnectionRegistry
  readonly routes: RouteMatcher
  readonly handshakeTimeouts: HandshakeTimeouts
  /** The app's topics: `socket.subscribe()`, `app.publish()`. */
  readonly topics: TopicRegistry
  /** Carries topics to the app's other instances (in-process by default). */
  readonly adapter: TopicAdapter
  /** Messages and bytes in and out, closes by code, for `stats()`. */
  readonly counters: TrafficCounters
  /** Upgrade requests answered with an HTTP error, by status, for `stats()`. */
  readonly refusedByStatus: Map<number, number>
  /**
   * The thread-pool bound for permessage-deflate, one per distinct `concurrencyLimit` of this
   * plugin instance: the limit a user sets is exactly what applies to their routes.
   */
  zlibLimiter: (limit: number) => ZlibConcurrencyLimiter
  /** One shared heartbeat timer per distinct (pingInterval, pongTimeout, idleTimeout). */
  heartbeatFor: (options: ResolvedConnectionOptions) => HeartbeatScheduler
  /** Upgrade requests in flight, keyed weakly so an abandoned one cannot leak. */
  readonly upgrades: WeakMap<IncomingMessage, PendingUpgrade>
  /**
   * Why new upgrades are refused with 503 (`app.close()` started, or `drain()` was called);
   * undefined while they are accepted.
   */
  refusing: string | undefined
  /** `app.websocketServer`. */
  readonly server: WebSocketServer
  /** `ws`'s `path` and `verifyClient` from @fastify/websocket's `options`, if any. */
  readonly upgradeCheck: UpgradeCheck | undefined
}
