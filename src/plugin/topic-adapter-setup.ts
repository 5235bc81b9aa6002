import type { FastifyInstance } from 'fastify'
import { memoryAdapter, type TopicAdapter } from '../adapters/index.js'
import type { TopicRegistry } from '../connection/index.js'
import { invalidOption } from './errors.js'

const ADAPTER_METHODS = ['start', 'subscribe', 'unsubscribe', 'publish', 'close'] as const

/** Checks the `adapter` option (the five methods and `stats`), or makes the in-process default. */
export function resolveAdapter (adapter: TopicAdapter | undefined): TopicAdapter {
  if (adapter === undefined) return memoryAdapter()
  const candidate = adapter as unknown as Record<string, unknown> | null
  const missing = typeof candidate === 'object' && candidate !== null
    ? ADAPTER_METHODS.filter((method) => typeof candidate[method] !== 'function')
    : [...ADAPTER_METHODS]
  if (missing.length > 0 || !('stats' in (candidate ?? {}))) {
    throw invalidOption('adapter', `a TopicAdapter (start, subscribe, unsubscribe, publish, close and stats; missing ${missing.join(', ') || 'stats'})`, adapter)
  }
  return adapter
}

/**
 * Starts the adapter with the app (so `app.ready()` waits for it, within the adapter's own
 * bound) and closes it after the sockets, once `preClose` closed them (`onClose` runs later).
 * Messages from other instances go to this instance's subscribers only: `publishLocal` never
 * hands them back to the bus.
 */
export function wireAdapter (fastify: FastifyInstance, adapter: TopicAdapter, topics: TopicRegistry): void {
  fastify.addHook('onReady', async function startTopicAdapter () {
    await adapter.start({
      deliver: (topic, data, binary) => { topics.publishLocal(topic, data, binary) },
      log: fastify.log
    })
    topics.attach(adapter)
  })
  fastify.addHook('onClose', async function closeTopicAdapter () {
    await adapter.close()
  })
}
