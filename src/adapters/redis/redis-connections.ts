import { Redis, type RedisOptions } from 'ioredis'
import type { ResolvedRedisAdapterOptions } from './redis-adapter-options.js'
import type { RedisClientLike } from './redis-client.js'

/** Backoff of the connections the adapter opens: 50 ms, doubling, capped. */
const FIRST_RECONNECT_DELAY = 50

/** The adapter's two connections, and which of them it opened (and so must close). */
export interface RedisConnections {
  publisher: RedisClientLike
  subscriber: RedisClientLike
  ownsPublisher: boolean
  ownsSubscriber: boolean
}

/**
 * Opens (lazily: nothing connects before `connect()`) or takes the connections the options
 * describe: two of its own for `url`; the user's `client` and `subscriber`; or the user's
 * `client` and a duplicate of it, which the adapter owns.
 */
export function openConnections (options: ResolvedRedisAdapterOptions): RedisConnections {
  const { url, client, subscriber } = options
  const retryStrategy = (attempt: number): number => reconnectDelay(attempt, options.maxReconnectDelay)
  if (url !== undefined) {
    return {
      publisher: new Redis(url, ownConnectionOptions(options, 'publisher', retryStrategy)) as unknown as RedisClientLike,
      subscriber: new Redis(url, ownConnectionOptions(options, 'subscriber', retryStrategy)) as unknown as RedisClientLike,
      ownsPublisher: true,
      ownsSubscriber: true
    }
  }
  const publisher = client as RedisClientLike
  if (subscriber !== undefined) return { publisher, subscriber, ownsPublisher: false, ownsSubscriber: false }
  const duplicate = publisher.isCluster === true
    // Cluster#duplicate(startupNodes, options): the same nodes, our reconnection policy.
    ? publisher.duplicate([], {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: retryStrategy,
      ...(options.sharded ? { shardedSubscribers: true } : {})
    })
    : publisher.duplicate(ownConnectionOptions(options, 'subscriber', retryStrategy))
  return { publisher, subscriber: duplicate as RedisClientLike, ownsPublisher: false, ownsSubscriber: true }
}

function ownConnectionOptions (options: ResolvedRedisAdapterOptions, role: 'publisher' | 'subscriber', retryStrategy: (attempt: number) => number): RedisOptions {
  const { redisOptions } = options
  return {
    ...redisOptions,
    connectionName: `${redisOptions.connectionName ?? 'fws'}-${role}`,
    lazyConnect: true,
    // Never ioredis's unbounded offline queue: publishes wait in the adapter's bounded queue,
    // and subscriptions are re-sent from its topic set on every 'ready'.
    enableOfflineQueue: false,
    autoResubscribe: false,
    // At most once, like Redis pub/sub: what was in flight when a connection dropped is not sent twice.
    autoResendUnfulfilledCommands: false,
    retryStrategy
  }
}

/**
 * Milliseconds before reconnection attempt `attempt` (1, 2, ...): 50, 100, 200... capped at
 * `cap`, less up to 20% jitter so that a fleet does not reconnect in lockstep.
 */
export function reconnectDelay (attempt: number, cap: number): number {
  const delay = Math.min(FIRST_RECONNECT_DELAY * 2 ** Math.min(attempt - 1, 20), cap)
  return Math.round(delay * (0.8 + 0.2 * Math.random()))
}

/**
 * Quits a connection the adapter opened (QUIT if it is up, else drops it) and resolves when
 * it ended, or after `timeout` ms (then it is dropped).
 */
export async function endConnection (client: RedisClientLike, timeout: number): Promise<void> {
  if (client.status === 'end') return
  if (client.status === 'reconnecting') {
    // Between attempts there is no socket: disconnect() cancels the next attempt, and ioredis
    // emits no 'end' for it.
    client.disconnect()
    return
  }
  const ended = new Promise<void>((resolve) => client.on('end', () => resolve()))
  if (client.status === 'ready') {
    client.quit().catch(() => client.disconnect())
  } else {
    client.disconnect()
  }
  await withTimeout(ended, timeout)
  if (client.status !== 'end') client.disconnect()
}

/** Resolves when `promise` does or after `ms`, whichever is first. */
export async function withTimeout (promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}
