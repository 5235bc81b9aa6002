/**
 * redisAdapter() checks its options strictly, before any connection: unknown keys and bad
 * values throw a TypeError or RangeError that names the option.
 */
import t from 'tap'
import { Cluster, Redis } from 'ioredis'
import { REDIS_ADAPTER_DEFAULTS, redisAdapter, type RedisAdapterOptions, type RedisClientLike } from '../../src/adapters/redis/index.js'
import { resolveRedisAdapterOptions } from '../../src/adapters/redis/redis-adapter-options.js'
import { reconnectDelay } from '../../src/adapters/redis/redis-connections.js'

// Lazy clients: never connect in this file.
const client = new Redis({ lazyConnect: true })
const subscriber = new Redis({ lazyConnect: true })
const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true })
const shardedCluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true, shardedSubscribers: true })

// Type-level: ioredis's Redis and Cluster are accepted as they are.
const typed: RedisClientLike[] = [client, subscriber, cluster]
void typed

t.test('defaults', async (t) => {
  const resolved = resolveRedisAdapterOptions({ url: 'redis://127.0.0.1:6379' })
  t.match(resolved, {
    url: 'redis://127.0.0.1:6379',
    client: undefined,
    subscriber: undefined,
    prefix: 'fws:',
    sharded: false,
    maxQueuedMessages: 1000,
    maxQueuedBytes: 1048576,
    maxBufferedBytes: 8388608,
    maxReconnectDelay: 2000,
    readyTimeout: 5000
  })
  t.same(REDIS_ADAPTER_DEFAULTS, {
    prefix: 'fws:', sharded: false, maxQueuedMessages: 1000, maxQueuedBytes: 1048576, maxBufferedBytes: 8388608, maxReconnectDelay: 2000, readyTimeout: 5000
  })
  t.equal(redisAdapter({ url: 'rediss://user:pw@example.com:6380/2' }).stats.state, 'idle', 'TLS URLs, nothing connects before start()')
})

t.test('the options object is never modified', async (t) => {
  const options = Object.freeze({ url: 'redis://127.0.0.1', redisOptions: Object.freeze({ connectionName: 'x' }) })
  const resolved = resolveRedisAdapterOptions(options)
  t.not(resolved.redisOptions, options.redisOptions, 'a copy')
  t.same(options, { url: 'redis://127.0.0.1', redisOptions: { connectionName: 'x' } })
})

t.test('valid shapes', async (t) => {
  t.doesNotThrow(() => redisAdapter({ client }))
  t.doesNotThrow(() => redisAdapter({ client, subscriber }))
  t.doesNotThrow(() => redisAdapter({ client: cluster }))
  t.doesNotThrow(() => redisAdapter({ client: cluster, subscriber: shardedCluster, sharded: true }))
  t.doesNotThrow(() => redisAdapter({ client, maxReconnectDelay: 500, redisOptions: { connectionName: 'dup' } }), 'options for the duplicate')
  t.doesNotThrow(() => redisAdapter({ url: 'redis://h', prefix: '', readyTimeout: Infinity, maxQueuedMessages: 0, maxQueuedBytes: 0 }))
  t.doesNotThrow(() => redisAdapter({ url: 'redis://h', readyTimeout: 0, maxReconnectDelay: 50 }))
})

const invalid: Array<[string, unknown, ErrorConstructor, RegExp]> = [
  ['not an object', null, TypeError, /options must be an object/],
  ['an unknown key', { url: 'redis://h', prefx: 'a:' }, TypeError, /unknown option "prefx"/],
  ['neither url nor client', {}, TypeError, /either options\.url or options\.client/],
  ['both url and client', { url: 'redis://h', client }, TypeError, /either options\.url or options\.client/],
  ['url not a string', { url: 6379 }, TypeError, /options\.url must be a string/],
  ['url not a URL', { url: 'redis://[::1' }, TypeError, /options\.url is not a URL/],
  ['url without a scheme', { url: 'localhost:6379' }, TypeError, /redis:\/\/ or rediss:\/\//],
  ['url of another scheme', { url: 'http://localhost:6379' }, TypeError, /redis:\/\/ or rediss:\/\//],
  ['subscriber with url', { url: 'redis://h', subscriber }, TypeError, /options\.subscriber goes with options\.client/],
  ['client not a client', { client: { publish () {} } }, TypeError, /options\.client must be an ioredis client/],
  ['subscriber not a client', { client, subscriber: 'redis://h' }, TypeError, /options\.subscriber must be an ioredis client/],
  ['subscriber is client', { client, subscriber: client }, TypeError, /separate connection/],
  ['sharded not a boolean', { url: 'redis://h', sharded: 'yes' }, TypeError, /options\.sharded must be a boolean/],
  ['sharded Cluster subscriber without shardedSubscribers', { client: cluster, subscriber: cluster.duplicate(), sharded: true }, TypeError, /shardedSubscribers: true/],
  ['prefix not a string', { url: 'redis://h', prefix: 1 }, TypeError, /options\.prefix must be a string/],
  ['maxQueuedMessages negative', { url: 'redis://h', maxQueuedMessages: -1 }, RangeError, /options\.maxQueuedMessages/],
  ['maxQueuedMessages not an integer', { url: 'redis://h', maxQueuedMessages: 1.5 }, RangeError, /options\.maxQueuedMessages/],
  ['maxQueuedMessages unbounded', { url: 'redis://h', maxQueuedMessages: Infinity }, RangeError, /options\.maxQueuedMessages must be a finite integer/],
  ['maxQueuedBytes NaN', { url: 'redis://h', maxQueuedBytes: NaN }, TypeError, /options\.maxQueuedBytes must be a number/],
  ['maxQueuedBytes a string', { url: 'redis://h', maxQueuedBytes: '1mb' }, TypeError, /options\.maxQueuedBytes/],
  ['maxBufferedBytes negative', { url: 'redis://h', maxBufferedBytes: -5 }, RangeError, /options\.maxBufferedBytes/],
  ['maxReconnectDelay too small', { url: 'redis://h', maxReconnectDelay: 10 }, RangeError, /options\.maxReconnectDelay must be between 50 and 60000/],
  ['maxReconnectDelay Infinity', { url: 'redis://h', maxReconnectDelay: Infinity }, RangeError, /options\.maxReconnectDelay/],
  ['readyTimeout negative', { url: 'redis://h', readyTimeout: -1 }, RangeError, /options\.readyTimeout .*or Infinity/],
  ['readyTimeout a string', { url: 'redis://h', readyTimeout: '5s' }, TypeError, /options\.readyTimeout/],
  ['redisOptions not an object', { url: 'redis://h', redisOptions: 'tls' }, TypeError, /options\.redisOptions must be an object/],
  ['redisOptions with a key the adapter sets', { url: 'redis://h', redisOptions: { enableOfflineQueue: true } }, TypeError, /redisOptions\.enableOfflineQueue is set by the adapter/],
  ['redisOptions with retryStrategy', { url: 'redis://h', redisOptions: { retryStrategy: () => 1 } }, TypeError, /redisOptions\.retryStrategy/],
  ['redisOptions with the port', { url: 'redis://h', redisOptions: { port: 1 } }, TypeError, /put it in options\.url/],
  ['redisOptions with both clients given', { client, subscriber, redisOptions: {} }, TypeError, /options\.redisOptions applies to connections the adapter opens/],
  ['maxReconnectDelay with both clients given', { client, subscriber, maxReconnectDelay: 100 }, TypeError, /options\.maxReconnectDelay applies to connections the adapter opens/],
  ['redisOptions with a Cluster', { client: cluster, redisOptions: {} }, TypeError, /does not apply to a Cluster/]
]

for (const [label, options, type, message] of invalid) {
  t.test(`refused: ${label}`, async (t) => {
    t.throws(() => redisAdapter(options as RedisAdapterOptions), { name: type.name, message })
  })
}

t.teardown(() => {
  for (const c of [client, subscriber, cluster, shardedCluster]) c.disconnect()
})

t.test('reconnection backoff: 50 ms doubling, capped at maxReconnectDelay, jitter only below', async (t) => {
  for (let attempt = 1; attempt <= 40; attempt++) {
    const nominal = Math.min(50 * 2 ** (attempt - 1), 2000)
    for (let i = 0; i < 20; i++) {
      const delay = reconnectDelay(attempt, 2000)
      if (delay > nominal || delay < Math.floor(nominal * 0.8)) t.fail(`attempt ${attempt}: ${delay} ms is outside [0.8, 1] x ${nominal} ms`)
    }
  }
  t.ok(reconnectDelay(1, 2000) <= 50, 'first retry within 50 ms')
  t.ok(reconnectDelay(1000, 2000) <= 2000, 'never beyond the cap, even after many attempts')
  t.ok(reconnectDelay(1000, 2000) >= 1600)
})
