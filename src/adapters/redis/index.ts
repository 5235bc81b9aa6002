/**
 * `fastify-websocket-native/redis`: topics across the instances of an app over Redis pub/sub.
 *
 * ```ts
 * import websocket from 'fastify-websocket-native'
 * import { redisAdapter } from 'fastify-websocket-native/redis'
 *
 * await app.register(websocket, { adapter: redisAdapter({ url: 'redis://127.0.0.1:6379' }) })
 * ```
 *
 * This entry point is the only one that loads `ioredis` (an optional peer dependency): apps
 * without Redis install and load nothing more.
 *
 * @module
 */
import { resolveRedisAdapterOptions, type RedisAdapterOptions } from './redis-adapter-options.js'
import { RedisTopicAdapter } from './redis-topic-adapter.js'

export { REDIS_ADAPTER_DEFAULTS, type RedisAdapterOptions } from './redis-adapter-options.js'
export type { RedisTopicAdapter, RedisTopicAdapterStats } from './redis-topic-adapter.js'
export type { RedisClientLike } from './redis-client.js'
export type { TopicAdapter, TopicAdapterContext, TopicAdapterLogger, TopicAdapterState, TopicAdapterStats } from '../topic-adapter.js'

/**
 * A topic adapter over Redis pub/sub (see {@link RedisAdapterOptions} for every option and
 * default). A publish reaches the topic's subscribers on every instance: local ones directly,
 * the others through Redis, each message once and in the publisher's order.
 *
 * While Redis is unreachable, the app keeps serving and publishing to local subscribers; what
 * is published meanwhile is held in a bounded queue (by default the last 1000 messages, at most
 * 1 MiB) and sent when Redis is back, the rest is dropped and counted. Delivery is at most once,
 * as Redis pub/sub is.
 *
 * @throws {TypeError} for an unknown option, a missing or conflicting connection option, or a
 * value of the wrong type; {@link RangeError} for a number out of range. The message names the option.
 */
export function redisAdapter (options: RedisAdapterOptions): RedisTopicAdapter {
  return new RedisTopicAdapter(resolveRedisAdapterOptions(options))
}
