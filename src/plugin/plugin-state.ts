import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ConnectionRegistry } from './connection-registry.js'
import type { ResolvedConnectionOptions, WebSocketErrorHandler } from './options.js'
import type { RouteMatcher } from './route-matcher.js'
import type { HandshakeTimeouts } from './handshake-timeout.js'

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
  /** Upgrade requests in flight, keyed weakly so an abandoned one cannot leak. */
  readonly upgrades: WeakMap<IncomingMessage, PendingUpgrade>
  /** Set once `app.close()` started: new upgrades get 503. */
  closing: boolean
}
