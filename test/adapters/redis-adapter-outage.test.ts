/**
 * The Redis adapter when Redis goes away: stopped and restarted on the same port, one
 * instance's connection killed (Redis stays up, the others stay subscribed), Redis frozen
 * with SIGSTOP (connected but not reading), Redis absent at startup.
 *
 * The outage policy under test: publishing never throws and keeps serving; what is published
 * while Redis cannot take it waits in a queue bounded by maxQueuedMessages / maxQueuedBytes
 * (the oldest make room) and is sent in order when Redis is back; `0` drops it all.
 */
import t from 'tap'
import { redisAdapter } from '../../src/adapters/redis/index.js'
import { freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { Recorder, sleep, startInstance, until, type Instance } from './adapter-harness.js'

const WAIT = 5000
const UNREACHABLE = /lost the connection to Redis/

/** Kills one connection (by its CLIENT SETNAME name) on the server; the adapter reconnects it. */
async function killConnection (server: RedisServer, name: string): Promise<void> {
  const client = (await server.clients()).find((c) => c.name === name)
  if (client === undefined) throw new Error(`no connection named ${name}`)
  await server.command('CLIENT', 'KILL', 'ID', client.id)
}

/** Runs `publish` synchronously at the moment `instance` logs that it lost its Redis connection. */
function whenUnreachable (instance: Instance, publish: () => void): Promise<void> {
  return new Promise((resolve) => {
    instance.recorder.onLog = (entry) => {
      if (entry.level !== 'warn' || !UNREACHABLE.test(entry.msg ?? '')) return
      instance.recorder.onLog = undefined
      publish()
      resolve()
    }
  })
}

t.test('Redis stopped and restarted: local publishing goes on, one log line, topics resubscribed, delivery resumes', async (t) => {
  const server = await startRedisServer(t)
  const a = await startInstance(t, { url: server.url, maxReconnectDelay: 500 })
  const b = await startInstance(t, { url: server.url, maxReconnectDelay: 500 })
  b.adapter.subscribe('feed')
  b.adapter.subscribe('left-during-outage')
  await until(async () => await server.numsub('fws:feed') === 1, WAIT, 'b subscribed')

  await server.stop()
  await until(() => a.adapter.stats.state === 'reconnecting' && b.adapter.stats.state === 'reconnecting', WAIT, 'both reconnecting')
  const held: string[] = []
  for (let i = 0; i < 50; i++) {
    held.push(`held ${i}`)
    t.doesNotThrow(() => a.adapter.publish('feed', Buffer.from(`held ${i}`), false))
  }
  t.match(a.adapter.stats, { queued: 50, dropped: 0 })
  b.adapter.subscribe('joined-during-outage')
  b.adapter.unsubscribe('left-during-outage')
  await sleep(1500) // several failed reconnection attempts
  for (const instance of [a, b]) {
    t.equal(instance.recorder.logged('warn', UNREACHABLE).length, 1, 'the outage is logged once, not per attempt or message')
    t.equal(instance.recorder.logs.filter((entry) => entry.level !== 'info').length, 1, 'and nothing else is')
    t.match(instance.adapter.stats.lastError, /ECONNREFUSED/, 'the last connection error is in stats')
  }

  const restarted = Date.now()
  await server.start()
  await until(() => a.adapter.stats.state === 'ready' && b.adapter.stats.state === 'ready', WAIT, 'both ready again')
  const recovery = Date.now() - restarted
  t.comment(`ready ${recovery} ms after Redis answered again (backoff capped at 500 ms)`)
  t.ok(recovery < 2000, `reconnected within the capped backoff plus margin (${recovery} ms)`)
  await until(async () => await server.numsub('fws:feed') === 1, WAIT, 'feed resubscribed')
  t.equal(await server.numsub('fws:joined-during-outage'), 1, 'a topic joined during the outage is subscribed')
  t.equal(await server.numsub('fws:left-during-outage'), 0, 'a topic left during the outage is not')
  t.match(a.adapter.stats, { state: 'ready', queued: 0, messagesOut: 50, reconnects: 1, lastError: undefined })
  const back = a.recorder.logged('info', /reachable again/)
  t.equal(back.length, 1, 'the return is logged once')
  t.match(back[0].obj, { resent: 50, dropped: 0 })
  t.ok(Number(back[0].obj.outageMs) >= 1500, 'with the outage duration')

  a.adapter.publish('feed', Buffer.from('after'), false)
  await until(() => b.recorder.on('feed').includes('after'), WAIT, 'remote delivery after the restart')
  // Held messages reach whoever is subscribed when they are sent; b may have resubscribed
  // before or after a's publisher came back, so b got some suffix of them, in order, once.
  const got = b.recorder.on('feed')
  t.same(got, [...held.slice(held.length - (got.length - 1)), 'after'], 'in order, no duplicates, nothing made up')
})

t.test('one instance loses its connection: what it publishes meanwhile is held and delivered in order', async (t) => {
  const server = await startRedisServer(t)
  const a = await startInstance(t, { url: server.url, redisOptions: { connectionName: 'a' } })
  const b = await startInstance(t, { url: server.url })
  b.adapter.subscribe('feed')
  await until(async () => await server.numsub('fws:feed') === 1, WAIT, 'b subscribed')
  a.adapter.publish('feed', Buffer.from('before'), false)
  const expected = ['before']
  let queuedInOutage = -1
  const published = whenUnreachable(a, () => {
    for (let i = 0; i < 20; i++) {
      a.adapter.publish('feed', Buffer.from(`during ${i}`), false)
      expected.push(`during ${i}`)
    }
    queuedInOutage = a.adapter.stats.queued
  })
  await killConnection(server, 'a-publisher')
  await published
  t.equal(queuedInOutage, 20, 'held while the publisher reconnects')
  await until(() => a.adapter.stats.state === 'ready', WAIT, 'a reconnected')
  a.adapter.publish('feed', Buffer.from('after'), false)
  expected.push('after')
  await until(() => b.recorder.received.length === expected.length, WAIT, 'everything at b')
  t.same(b.recorder.on('feed'), expected, 'every message once, in publish order')
  t.match(a.adapter.stats, { dropped: 0, queued: 0, reconnects: 1 })
})

t.test('the queue is bounded: the newest messages are kept, the oldest dropped and counted', async (t) => {
  const server = await startRedisServer(t)
  const b = await startInstance(t, { url: server.url })
  b.adapter.subscribe('count')
  b.adapter.subscribe('bytes')
  await until(async () => (await server.channels()).length === 2, WAIT, 'b subscribed')

  const byCount = await startInstance(t, { url: server.url, maxQueuedMessages: 10, redisOptions: { connectionName: 'count' } })
  let stats = byCount.adapter.stats
  const countHeld = whenUnreachable(byCount, () => {
    for (let i = 0; i < 25; i++) byCount.adapter.publish('count', Buffer.from(`m${i}`), false)
    stats = byCount.adapter.stats
  })
  await killConnection(server, 'count-publisher')
  await countHeld
  t.match(stats, { queued: 10, dropped: 15 }, 'ten held, fifteen dropped')
  await until(() => b.recorder.on('count').length === 10, WAIT, 'the held ten at b')
  t.same(b.recorder.on('count'), Array.from({ length: 10 }, (_, i) => `m${15 + i}`), 'the ten most recent, in order')

  // 100-byte payloads take 111 bytes each with the header: three fit in 333 bytes.
  const byBytes = await startInstance(t, { url: server.url, maxQueuedBytes: 333, redisOptions: { connectionName: 'bytes' } })
  const bytesHeld = whenUnreachable(byBytes, () => {
    byBytes.adapter.publish('bytes', Buffer.alloc(334, 'x'), true) // bigger than the whole budget: refused
    for (let i = 0; i < 5; i++) byBytes.adapter.publish('bytes', Buffer.alloc(100, String(i)), true)
    stats = byBytes.adapter.stats
  })
  await killConnection(server, 'bytes-publisher')
  await bytesHeld
  t.match(stats, { queued: 3, queuedBytes: 333, dropped: 3 })
  await until(() => b.recorder.on('bytes').length === 3, WAIT, 'the held three at b')
  t.same(b.recorder.received.filter((d) => d.topic === 'bytes').map((d) => d.data.toString()),
    ['2', '3', '4'].map((digit) => digit.repeat(100)))
  await sleep(100)
  t.equal(b.recorder.on('bytes').length, 3, 'nothing else')
})

t.test('maxQueuedMessages: 0 drops what is published during an outage', async (t) => {
  const server = await startRedisServer(t)
  const a = await startInstance(t, { url: server.url, maxQueuedMessages: 0, redisOptions: { connectionName: 'a' } })
  const b = await startInstance(t, { url: server.url })
  b.adapter.subscribe('feed')
  await until(async () => await server.numsub('fws:feed') === 1, WAIT, 'b subscribed')
  let stats = a.adapter.stats
  const dropped = whenUnreachable(a, () => {
    for (let i = 0; i < 5; i++) a.adapter.publish('feed', Buffer.from(`lost ${i}`), false)
    stats = a.adapter.stats
  })
  await killConnection(server, 'a-publisher')
  await dropped
  t.match(stats, { queued: 0, dropped: 5 })
  await until(() => a.adapter.stats.state === 'ready', WAIT, 'a reconnected')
  a.adapter.publish('feed', Buffer.from('after'), false)
  await until(() => b.recorder.received.length > 0, WAIT, 'the next message')
  await sleep(100)
  t.same(b.recorder.on('feed'), ['after'], 'none of the dropped ones arrive')
  t.match(a.recorder.logged('info', /reachable again/)[0].obj, { dropped: 5, resent: 0 })
})

t.test('a stalled Redis (SIGSTOP) cannot grow memory: publishes beyond maxBufferedBytes go to the bounded queue', async (t) => {
  const server = await startRedisServer(t)
  const maxBufferedBytes = 256 * 1024
  const maxQueuedBytes = 512 * 1024
  const a = await startInstance(t, { url: server.url, maxBufferedBytes, maxQueuedBytes, maxQueuedMessages: 100_000 })
  const payload = Buffer.alloc(1024, 'p')
  server.signal('SIGSTOP')
  t.teardown(() => { if (server.running) server.signal('SIGCONT') })
  // Fill the kernel's socket buffers, then ours: bounded at 64 MB in case nothing pushes back.
  let published = 0
  while (a.adapter.stats.queued === 0 && published < 64 * 1024) {
    for (let i = 0; i < 1000; i++) a.adapter.publish('firehose', payload, true)
    published += 1000
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.ok(a.adapter.stats.queued > 0, `the queue took over after ${published} messages (${published / 1024} MiB) reached the socket`)
  for (let i = 0; i < 2000; i++) a.adapter.publish('firehose', payload, true)
  const stalled = a.adapter.stats
  t.comment(`stalled: ${JSON.stringify(stalled)}`)
  t.ok(stalled.queuedBytes <= maxQueuedBytes, `the queue stays within maxQueuedBytes (${stalled.queuedBytes})`)
  t.ok(stalled.dropped > 0, 'and the overflow is dropped and counted')
  t.equal(stalled.state, 'ready', 'connected all along')
  t.equal(a.recorder.logged('warn', /not keeping up/).length, 1, 'logged once')

  server.signal('SIGCONT')
  await until(() => a.adapter.stats.queued === 0, 20_000, 'the queue drained once Redis reads again')
  const before = a.adapter.stats.messagesOut
  a.adapter.publish('firehose', payload, true)
  t.equal(a.adapter.stats.messagesOut, before + 1, 'publishing goes straight to Redis again')
  t.equal(a.adapter.stats.queued, 0)
})

t.test('Redis absent at startup: start() waits readyTimeout, logs once, the adapter connects when Redis comes', async (t) => {
  const port = await freePort()
  const adapter = redisAdapter({ url: `redis://127.0.0.1:${port}`, readyTimeout: 300, maxReconnectDelay: 200 })
  const recorder = new Recorder()
  t.teardown(async () => await adapter.close())
  const since = Date.now()
  await adapter.start(recorder.context)
  const waited = Date.now() - since
  t.ok(waited >= 250 && waited < 3000, `start() resolved after about readyTimeout (${waited} ms)`)
  t.equal(adapter.stats.state, 'connecting')
  t.equal(recorder.logged('error', /not reachable/).length, 1, 'one error line')
  for (let i = 0; i < 5; i++) adapter.publish('t', Buffer.from(String(i)), false)
  adapter.subscribe('t')
  t.match(adapter.stats, { queued: 5, topics: 1 })
  await sleep(500)
  t.equal(recorder.logs.length, 1, 'failed attempts are not logged')

  const server = await startRedisServer(t, { port })
  await until(() => adapter.stats.state === 'ready', WAIT, 'connected once Redis is there')
  t.equal(recorder.logged('info', /connected to Redis/).length, 1)
  t.match(adapter.stats, { queued: 0, messagesOut: 5, dropped: 0 })
  await until(async () => await server.numsub('fws:t') === 1, WAIT, 'subscribed')

  const noWait = redisAdapter({ url: `redis://127.0.0.1:${await freePort()}`, readyTimeout: 0 })
  t.teardown(async () => await noWait.close())
  const started = Date.now()
  await noWait.start(new Recorder().context)
  t.ok(Date.now() - started < 200, 'readyTimeout: 0 does not wait')
})

t.test('close() during an outage returns promptly and leaves nothing trying to reconnect', async (t) => {
  const server = await startRedisServer(t)
  const a = await startInstance(t, { url: server.url, maxReconnectDelay: 100 })
  a.adapter.subscribe('t')
  await server.stop()
  await until(() => a.adapter.stats.state === 'reconnecting', WAIT, 'reconnecting')
  for (let i = 0; i < 3; i++) a.adapter.publish('t', Buffer.from('x'), false)
  const since = Date.now()
  await a.adapter.close()
  t.ok(Date.now() - since < 1000, 'close() did not wait for Redis')
  t.match(a.adapter.stats, { state: 'closed', queued: 0, dropped: 3 })
  await server.start()
  await sleep(500) // several backoff periods
  t.same(await server.clients(), [], 'no connection came back')
})

t.test('only the subscribing connection lost: publishes still go straight out, the topics come back', async (t) => {
  const server = await startRedisServer(t)
  const a = await startInstance(t, { url: server.url, redisOptions: { connectionName: 'a' } })
  const b = await startInstance(t, { url: server.url })
  a.adapter.subscribe('to-a')
  b.adapter.subscribe('to-b')
  await until(async () => (await server.channels()).length === 2, WAIT, 'both subscribed')
  let queued = -1
  let logged: Record<string, unknown> = {}
  const lost = whenUnreachable(a, () => {
    a.adapter.publish('to-b', Buffer.from('while a cannot receive'), false)
    queued = a.adapter.stats.queued
    logged = a.recorder.logged('warn', UNREACHABLE)[0].obj
  })
  await killConnection(server, 'a-subscriber')
  await lost
  t.equal(queued, 0, 'the publisher is up: nothing held')
  t.match(logged, { publisher: 'ready', subscriber: /^(close|reconnecting)$/ }, 'the log says which connection is down')
  await until(() => b.recorder.received.length === 1, WAIT, 'b got it')
  await until(() => a.adapter.stats.state === 'ready', WAIT, 'a is whole again')
  await until(async () => await server.numsub('fws:to-a') === 1, WAIT, 'a resubscribed')
  b.adapter.publish('to-a', Buffer.from('and back'), false)
  await until(() => a.recorder.received.length === 1, WAIT, 'a receives again')
})

t.test('publish and subscribe before start() are held and applied once Redis is ready', async (t) => {
  const server = await startRedisServer(t)
  const b = await startInstance(t, { url: server.url })
  b.adapter.subscribe('early')
  await until(async () => await server.numsub('fws:early') === 1, WAIT, 'b subscribed')
  const a = redisAdapter({ url: server.url })
  t.teardown(async () => await a.close())
  a.publish('early', Buffer.from('published before start'), false)
  a.subscribe('early')
  t.match(a.stats, { state: 'idle', queued: 1, topics: 1 })
  const recorder = new Recorder()
  await a.start(recorder.context)
  await until(() => b.recorder.received.length === 1, WAIT, 'the early message at b')
  t.same(b.recorder.on('early'), ['published before start'])
  await until(async () => await server.numsub('fws:early') === 2, WAIT, 'a\'s early subscription made')
})
