import { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import type { PublishOptions, TopicRegistry, WebSocket, WebSocketData } from '../connection/index.js'
import type { ConnectionRegistry } from './connection-registry.js'
import type { WebSocketServerEvents, WebSocketServerView } from './types.js'
import type { WebSocketServerStats } from './server-stats.js'

/** What the server view reads from the plugin: its sockets, topics and refusal state. */
export interface WebSocketServerParts {
  readonly registry: ConnectionRegistry
  readonly topics: TopicRegistry
  /** Why new upgrades get 503, or undefined while they are accepted. */
  refusing: string | undefined
  /** `stats()`'s snapshot. */
  readonly stats: () => WebSocketServerStats
}

/**
 * `app.websocketServer`: this plugin's own controls (`drain`, `draining`, `publish`) and the
 * part of `ws`'s WebSocketServer that @fastify/websocket code reaches for: the `clients` Set,
 * the `connection` event and `close()` with `ws` 8's semantics.
 */
export class WebSocketServer extends EventEmitter<WebSocketServerEvents> implements WebSocketServerView {
  readonly clients: Set<WebSocket>
  readonly #parts: WebSocketServerParts
  readonly #log: FastifyBaseLogger
  #state: 'running' | 'closing' | 'closed' = 'running'

  constructor (parts: WebSocketServerParts, log: FastifyBaseLogger) {
    super()
    this.clients = parts.registry.clients
    this.#parts = parts
    this.#log = log
  }

  get draining (): boolean {
    return this.#parts.refusing !== undefined
  }

  async drain (): Promise<void> {
    this.#parts.refusing ??= 'server is draining connections; try another instance'
    await this.#parts.registry.whenEmpty()
  }

  publish (topic: string, data: WebSocketData, options?: PublishOptions): number {
    return this.#parts.topics.publish(topic, data, options)
  }

  stats (): WebSocketServerStats {
    return this.#parts.stats()
  }

  close (callback?: (error?: Error) => void): void {
    if (this.#state === 'closed') {
      // As `ws`: closing a closed server reports it to the callback.
      if (callback !== undefined) process.nextTick(callback, new Error('The server is not running'))
      return
    }
    if (callback !== undefined) this.once('close', callback)
    if (this.#state === 'closing') return
    this.#state = 'closing'
    this.#parts.refusing ??= 'server is closed'
    void this.#parts.registry.whenEmpty().then(() => {
      this.#state = 'closed'
      // On its own tick, as `ws` emits it: a listener that throws is not a rejected promise.
      process.nextTick(emitClose, this)
    })
  }

  /**
   * Emits 'connection' for a socket that just opened, before its handler runs. A listener
   * that throws is logged: it must not break the upgrade (the 101 is already sent).
   */
  announce (socket: WebSocket, request: IncomingMessage): void {
    if (this.listenerCount('connection') === 0) return
    try {
      this.emit('connection', socket, request)
    } catch (error) {
      this.#log.error({ err: error }, 'a websocketServer "connection" listener threw')
    }
  }
}

function emitClose (server: WebSocketServer): void {
  server.emit('close')
}
