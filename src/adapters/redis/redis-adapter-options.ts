import type { RedisOptions } from 'ioredis'
import { isRedisClient, type RedisClientInternals, type RedisClientLike } from './redis-client.js'

/**
 * Options of `redisAdapter()`. Give either `url` (the adapter opens and owns two connections)
 * or `client` (yours, e.g. `app.redis` from `@fastify/redis`), optionally with `subscriber`.
 */
export interface RedisAdapterOptions {
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://...` (TLS) of a standalone Redis (or
   * a node of a non-cluster deployment). The adapter opens a publishing and a subscribing
   * connection and closes both on `close()`. Exclusive with `client`.
   */
  url?: string
  /**
   * More ioredis options for the connections the adapter opens (with `url`, or the subscriber
   * it duplicates from a standalone `client`): `tls`, `password`, `connectTimeout`,
   * `connectionName` (suffixed with `-publisher` / `-subscriber`)... The adapter sets
   * `lazyConnect`, `enableOfflineQueue: false`, `autoResubscribe: false`,
   * `autoResendUnfulfilledCommands: false` and `retryStrategy` itself; passing those (or
   * `host`, `port`, `path`: put them in `url`) throws.
   */
  redisOptions?: Omit<RedisOptions, 'host' | 'port' | 'path' | 'lazyConnect' | 'enableOfflineQueue' | 'autoResubscribe' | 'autoResendUnfulfilledCommands' | 'retryStrategy'>
  /**
   * Your ioredis client (`Redis` or `Cluster`) to publish with. The adapter never quits it: on
   * `close()` it only removes its listeners. A client created with `lazyConnect` is connected
   * by `start()`. Exclusive with `url`.
   */
  client?: RedisClientLike
  /**
   * Your ioredis client to subscribe with (a connection in subscriber mode cannot publish, so
   * it must not be `client`; typically `client.duplicate()`). On `close()` the adapter
   * unsubscribes its channels on it and removes its listeners, but never quits it.
   * Default: the adapter duplicates `client` and owns (and quits) the duplicate.
   */
  subscriber?: RedisClientLike
  /**
   * Prepended to a topic to name its Redis channel (`'fws:' + topic`). Apps sharing a Redis
   * but not their topics use different prefixes. Default `'fws:'`.
   */
  prefix?: string
  /**
   * Use sharded pub/sub (`SPUBLISH` / `SSUBSCRIBE`, Redis 7+). On a Redis Cluster, a sharded
   * message only travels within the shard that owns the channel's slot instead of being
   * broadcast to every node; pass a `Cluster` as `client` (if you pass a `subscriber` too, it
   * must be a `Cluster` created with `shardedSubscribers: true`). Each topic's channel lives
   * on the shard that owns its hash slot, so topics spread over the shards; a topic
   * containing `{tag}` is placed by its tag, like a key. A standalone Redis 7 also accepts
   * sharded commands. Every instance of the app must use the same setting: sharded and
   * classic channels do not see each other. Default `false`.
   */
  sharded?: boolean
  /**
   * Most messages held while Redis cannot take them (unreachable, or behind by
   * `maxBufferedBytes`), sent in order when it can again; when full, the oldest are dropped.
   * `0` drops everything published during an outage. Default `1000`.
   */
  maxQueuedMessages?: number
  /** Most bytes (payload plus an 11-byte header each) held by that queue. Default `1048576` (1 MiB). */
  maxQueuedBytes?: number
  /**
   * Bytes that may wait to be written on the publishing connection (published in this tick,
   * or not yet taken by the kernel because Redis reads slower than the app publishes) before
   * new publishes go to the outage queue instead, so a stalled Redis cannot grow memory. Only
   * standalone clients expose their socket; for a `Cluster` this limit does not apply.
   * Default `8388608` (8 MiB).
   */
  maxBufferedBytes?: number
  /**
   * Cap, in milliseconds, of the exponential reconnection backoff of the connections the
   * adapter opens (50 ms, 100 ms, 200 ms... up to this), so delivery resumes within about
   * this long after Redis returns. Default `2000`. Your own clients keep their
   * `retryStrategy` (ioredis's default caps at about 5 s).
   */
  maxReconnectDelay?: number
  /**
   * How long `start()` (so `app.ready()`) waits for Redis, in milliseconds. If Redis is not
   * reachable by then, the app starts anyway, serving local subscribers only: the adapter logs
   * an error and keeps trying (check `stats.state` in a readiness probe if you would rather
   * not take traffic without Redis). `0` does not wait, `Infinity` waits until Redis answers.
   * Default `5000`.
   */
  readyTimeout?: number
}

/** @internal The options, checked and with defaults. */
export interface ResolvedRedisAdapterOptions {
  url: string | undefined
  redisOptions: RedisOptions
  client: RedisClientLike | undefined
  subscriber: RedisClientLike | undefined
  prefix: string
  sharded: boolean
  maxQueuedMessages: number
  maxQueuedBytes: number
  maxBufferedBytes: number
  maxReconnectDelay: number
  readyTimeout: number
}

export const REDIS_ADAPTER_DEFAULTS = {
  prefix: 'fws:',
  sharded: false,
  maxQueuedMessages: 1000,
  maxQueuedBytes: 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxReconnectDelay: 2000,
  readyTimeout: 5000
} as const

const KNOWN_KEYS = new Set<string>([
  'url', 'redisOptions', 'client', 'subscriber', 'prefix', 'sharded',
  'maxQueuedMessages', 'maxQueuedBytes', 'maxBufferedBytes', 'maxReconnectDelay', 'readyTimeout'
])

/** ioredis options the adapter sets on its own connections; a user value would be overridden, so it is refused. */
const RESERVED_REDIS_OPTIONS = [
  'host', 'port', 'path', 'lazyConnect', 'enableOfflineQueue', 'autoResubscribe', 'autoResendUnfulfilledCommands', 'retryStrategy'
]

/** @internal Checks `options` strictly and fills in defaults. Never modifies `options`. */
export function resolveRedisAdapterOptions (options: RedisAdapterOptions): ResolvedRedisAdapterOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('redisAdapter: options must be an object')
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) throw new TypeError(`redisAdapter: unknown option "${key}"`)
  }
  const { url, client, subscriber } = options
  if ((url === undefined) === (client === undefined)) {
    throw new TypeError('redisAdapter: pass either options.url or options.client (not both)')
  }
  if (url !== undefined) {
    if (typeof url !== 'string') throw new TypeError('redisAdapter: options.url must be a string')
    let protocol: string
    try {
      protocol = new URL(url).protocol
    } catch {
      throw new TypeError(`redisAdapter: options.url is not a URL: ${JSON.stringify(url)}`)
    }
    if (protocol !== 'redis:' && protocol !== 'rediss:') {
      throw new TypeError(`redisAdapter: options.url must start with redis:// or rediss://, got ${JSON.stringify(protocol)}`)
    }
    if (subscriber !== undefined) throw new TypeError('redisAdapter: options.subscriber goes with options.client, not options.url')
  }
  if (client !== undefined && !isRedisClient(client)) {
    throw new TypeError('redisAdapter: options.client must be an ioredis client (Redis or Cluster)')
  }
  if (subscriber !== undefined) {
    if (!isRedisClient(subscriber)) throw new TypeError('redisAdapter: options.subscriber must be an ioredis client (Redis or Cluster)')
    if (subscriber === client) {
      throw new TypeError('redisAdapter: options.subscriber must be a separate connection from options.client (e.g. client.duplicate())')
    }
  }
  const sharded = optionalBoolean(options.sharded, 'sharded', REDIS_ADAPTER_DEFAULTS.sharded)
  if (sharded && subscriber?.isCluster === true &&
      (subscriber as RedisClientInternals).options?.shardedSubscribers !== true) {
    throw new TypeError('redisAdapter: with sharded: true, a Cluster options.subscriber must be created with { shardedSubscribers: true }')
  }
  // The adapter opens connections with url, and for the subscriber it duplicates from a client.
  const opensConnections = url !== undefined || subscriber === undefined
  if (!opensConnections) {
    for (const key of ['redisOptions', 'maxReconnectDelay'] as const) {
      if (options[key] !== undefined) {
        throw new TypeError(`redisAdapter: options.${key} applies to connections the adapter opens; with both client and subscriber given, configure them yourself`)
      }
    }
  }
  const redisOptions = options.redisOptions ?? {}
  if (typeof redisOptions !== 'object' || redisOptions === null) throw new TypeError('redisAdapter: options.redisOptions must be an object')
  if (options.redisOptions !== undefined && client?.isCluster === true) {
    throw new TypeError('redisAdapter: options.redisOptions does not apply to a Cluster client; pass your own options.subscriber to configure it')
  }
  for (const key of RESERVED_REDIS_OPTIONS) {
    if (key in redisOptions) throw new TypeError(`redisAdapter: options.redisOptions.${key} is set by the adapter${key === 'host' || key === 'port' || key === 'path' ? ' (put it in options.url)' : ''}`)
  }
  const prefix = options.prefix ?? REDIS_ADAPTER_DEFAULTS.prefix
  if (typeof prefix !== 'string') throw new TypeError('redisAdapter: options.prefix must be a string')
  return {
    url,
    redisOptions: { ...redisOptions } as RedisOptions,
    client,
    subscriber,
    prefix,
    sharded,
    maxQueuedMessages: count(options.maxQueuedMessages, 'maxQueuedMessages', REDIS_ADAPTER_DEFAULTS.maxQueuedMessages),
    maxQueuedBytes: count(options.maxQueuedBytes, 'maxQueuedBytes', REDIS_ADAPTER_DEFAULTS.maxQueuedBytes),
    maxBufferedBytes: count(options.maxBufferedBytes, 'maxBufferedBytes', REDIS_ADAPTER_DEFAULTS.maxBufferedBytes),
    maxReconnectDelay: milliseconds(options.maxReconnectDelay, 'maxReconnectDelay', REDIS_ADAPTER_DEFAULTS.maxReconnectDelay, 50, 60_000, false),
    readyTimeout: milliseconds(options.readyTimeout, 'readyTimeout', REDIS_ADAPTER_DEFAULTS.readyTimeout, 0, Infinity, true)
  }
}

function optionalBoolean (value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TypeError(`redisAdapter: options.${name} must be a boolean`)
  return value
}

/** A finite integer >= 0 (queue bounds are never unbounded). */
function count (value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`redisAdapter: options.${name} must be a number`)
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`redisAdapter: options.${name} must be a finite integer >= 0, got ${value}`)
  }
  return value
}

function milliseconds (value: unknown, name: string, fallback: number, min: number, max: number, infinite: boolean): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`redisAdapter: options.${name} must be a number of milliseconds`)
  if (value === Infinity && infinite) return value
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`redisAdapter: options.${name} must be between ${min} and ${max} ms${infinite ? ' or Infinity' : ''}, got ${value}`)
  }
  return value
}
