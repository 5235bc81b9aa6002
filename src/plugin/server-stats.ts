import type { TopicAdapterStats } from '../adapters/index.js'
import { diagnosticsChannels } from '../connection/index.js'
import type { PluginState } from './plugin-state.js'

/** What `app.websocketServer.stats()` returns: a snapshot, safe to serialise. */
export interface WebSocketServerStats {
  /** Open (and closing) connections: all, and per route URL pattern. */
  connections: { total: number, byRoute: Record<string, number> }
  /** Data messages delivered to the application, and their payload bytes (decompressed). */
  messagesIn: number
  bytesIn: number
  /** Data messages accepted by `send` and `publish` (per receiving socket), and their bytes. */
  messagesOut: number
  bytesOut: number
  /** Closed connections by the close code their 'close' event reported (1006 included). */
  closesByCode: Record<string, number>
  /** Upgrade requests answered with an HTTP error instead of a 101, by status. */
  refusedByStatus: Record<string, number>
  /** Topics with a subscriber on this instance. */
  topics: number
  /** The topic adapter's state and counters. */
  adapter: TopicAdapterStats
}

export function collectStats (state: PluginState): WebSocketServerStats {
  const { counters, registry } = state
  return {
    connections: { total: registry.clients.size, byRoute: Object.fromEntries(registry.perRoute) },
    messagesIn: counters.messagesIn,
    bytesIn: counters.bytesIn,
    messagesOut: counters.messagesOut,
    bytesOut: counters.bytesOut,
    closesByCode: Object.fromEntries(counters.closesByCode),
    refusedByStatus: Object.fromEntries(state.refusedByStatus),
    topics: state.topics.size,
    adapter: state.adapter.stats
  }
}

/** An upgrade was answered with an HTTP error: counted for `stats()` and published. */
export function recordRefusal (state: PluginState, status: number, url: string | undefined): void {
  state.refusedByStatus.set(status, (state.refusedByStatus.get(status) ?? 0) + 1)
  if (diagnosticsChannels.handshakeRefused.hasSubscribers) diagnosticsChannels.handshakeRefused.publish({ status, url })
}
