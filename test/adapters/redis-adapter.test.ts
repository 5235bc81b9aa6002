/**
 * The Redis adapter against a real redis-server: adapters stand for app instances, each with
 * a `deliver` that records what arrives. What the server itself reports (PUBSUB NUMSUB,
 * CLIENT LIST) is read over a separate raw connection.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { redisAdapter } from '../../src/adapters/redis/index.js'
import { ENVELOPE_HEADER_LENGTH } from '../../src/adapters/redis/envelope.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { Recorder, binaryPayload, sleep, startInstance, until } from './adapter-harness.js'

const WAIT = 5000

t.test('every message reaches every other instance once, in order, text as text and binary as binary, never its own', async (t) => {
  const server = await startRedisServer(t)
  const [a, b, c] = await Promise.all([0, 1, 2].map(async () => await startInstance(t, { url: server.url })))
  for (const instance of [a, b, c]) {
    t.equal(instance.adapter.stats.state, 'ready', 'start() resolved with Redis ready')
    instance.adapter.subscribe('news')
  }
  await until(async () => await server.numsub('fws:news') === 3, WAIT, 'three subscribers of fws:news')
  c.adapter.subscribe('only-c')

  const COUNT = 200
  const expected = { a: [] as string[], b: [] as string[] }
  // Interleaved publishers, alternating text (including non-ASCII) and binary (not valid UTF-8).
  for (let i = 0; i < COUNT; i++) {
    for (const [name, instance, id] of [['a', a, 1], ['b', b, 2]] as const) {
      if (i % 2 === 0) {
        const text = `${name}:${i}:héllo→`
        instance.adapter.publish('news', Buffer.from(text), false)
        expected[name].push(text)
      } else {
        const bytes = binaryPayload(id, i)
        instance.adapter.publish('news', bytes, true)
        expected[name].push(`bin:${bytes.toString('hex')}`)
      }
    }
  }
  a.adapter.publish('elsewhere', Buffer.from('nobody listens'), false)
  b.adapter.publish('only-c', Buffer.from('for c'), false)

  await until(() => a.recorder.received.length >= COUNT && b.recorder.received.length >= COUNT && c.recorder.received.length >= 2 * COUNT + 1,
    WAIT, 'every message at every other instance')
  await sleep(200) // anything extra (a duplicate, an echo) would arrive by now

  const from = (recorder: Recorder, name: string): string[] =>
    recorder.on('news').filter((payload) => payload.startsWith(`${name}:`) || payload.startsWith(`bin:fe00${name === 'a' ? '01' : '02'}`))
  t.same(from(a.recorder, 'b'), expected.b, 'a got all of b\'s messages, in order')
  t.same(from(a.recorder, 'a'), [], 'a never got its own messages back')
  t.same(from(b.recorder, 'a'), expected.a, 'b got all of a\'s messages, in order')
  t.same(from(b.recorder, 'b'), [], 'b never got its own messages back')
  t.same(from(c.recorder, 'a'), expected.a, 'c got all of a\'s messages, in order')
  t.same(from(c.recorder, 'b'), expected.b, 'c got all of b\'s messages, in order')
  t.equal(a.recorder.received.length, COUNT, 'a: nothing else')
  t.equal(b.recorder.received.length, COUNT, 'b: nothing else (not only-c, not elsewhere)')
  t.same(c.recorder.on('only-c'), ['for c'])
  t.equal(c.recorder.received.length, 2 * COUNT + 1, 'c: nothing else')
  t.ok(c.recorder.received.every((delivery) => delivery.binary === (delivery.data[0] === 0xfe)), 'every binary flag matches the payload kind')
  const textBytes = expected.a.filter((p) => !p.startsWith('bin:')).reduce((sum, p) => sum + Buffer.byteLength(p), 0)
  t.match(a.adapter.stats, {
    adapter: 'redis',
    state: 'ready',
    topics: 1,
    messagesOut: COUNT + 1,
    bytesOut: textBytes + (COUNT / 2) * 6 + Buffer.byteLength('nobody listens'),
    messagesIn: COUNT,
    dropped: 0,
    queued: 0,
    rejected: 0
  })
  t.equal(c.adapter.stats.messagesIn, 2 * COUNT + 1)
  t.equal(c.adapter.stats.topics, 2)
})

t.test('the Redis subscription follows the first and last local interest', async (t) => {
  const server = await startRedisServer(t)
  const a = await startInstance(t, { url: server.url })
  const b = await startInstance(t, { url: server.url })
  t.equal(await server.numsub('fws:room'), 0)

  a.adapter.subscribe('room')
  await until(async () => await server.numsub('fws:room') === 1, WAIT, 'a subscribed')
  a.adapter.subscribe('room') // already subscribed: nothing more
  b.adapter.subscribe('room')
  await until(async () => await server.numsub('fws:room') === 2, WAIT, 'b subscribed')
  t.same(await server.channels(), ['fws:room'], 'one channel, however many subscribe calls')
  t.equal(a.adapter.stats.topics, 1)

  a.adapter.unsubscribe('room')
  await until(async () => await server.numsub('fws:room') === 1, WAIT, 'a unsubscribed')
  a.adapter.unsubscribe('room') // unknown now: nothing happens
  a.adapter.unsubscribe('never-subscribed')
  b.adapter.unsubscribe('room')
  await until(async () => (await server.channels()).length === 0, WAIT, 'no channel left')
  t.equal(a.adapter.stats.topics, 0)

  // Publishing is not subscribing, and an unsubscribed topic is not delivered.
  b.adapter.publish('room', Buffer.from('after everyone left'), false)
  a.adapter.publish('room', Buffer.from('same'), false)
  await sleep(100)
  t.same(await server.channels(), [], 'publishing subscribed nothing')
  t.equal(a.recorder.received.length + b.recorder.received.length, 0, 'nothing delivered for a topic nobody here subscribes')
})

t.test('a new subscription receives other instances\' publishes within 100 ms', async (t) => {
  const server = await startRedisServer(t)
  const publisher = await startInstance(t, { url: server.url })
  const subscriber = await startInstance(t, { url: server.url })
  const delays: number[] = []
  for (let round = 0; round < 5; round++) {
    const topic = `fresh-${round}`
    const since = performance.now()
    subscriber.adapter.subscribe(topic)
    // Publish every 2 ms until one arrives: the delay is how soon the subscription took effect.
    let arrived: number | undefined
    subscriber.recorder.onDeliver = (delivery) => { if (delivery.topic === topic) arrived ??= delivery.at }
    const deadline = since + 2000
    while (arrived === undefined && performance.now() < deadline) {
      publisher.adapter.publish(topic, Buffer.from(`ping ${round}`), false)
      await sleep(2)
    }
    t.ok(arrived !== undefined, `round ${round}: a publish arrived`)
    delays.push((arrived ?? Infinity) - since)
  }
  t.comment(`subscription to first delivery: ${delays.map((d) => d.toFixed(1)).join(', ')} ms`)
  for (const delay of delays) t.ok(delay < 100, `subscribed and delivered within 100 ms (${delay.toFixed(1)} ms)`)
})

t.test('close() leaves no connection on the server, and later calls do nothing', async (t) => {
  const server = await startRedisServer(t)
  const a = await startInstance(t, { url: server.url })
  const b = await startInstance(t, { url: server.url, redisOptions: { connectionName: 'app-b' } })
  a.adapter.subscribe('x')
  b.adapter.subscribe('x')
  await until(async () => await server.numsub('fws:x') === 2, WAIT, 'both subscribed')
  const names = (await server.clients()).map((client) => client.name).sort()
  t.same(names, ['app-b-publisher', 'app-b-subscriber', 'fws-publisher', 'fws-subscriber'], 'two connections each, named for CLIENT LIST')

  await a.adapter.close()
  t.same((await server.clients()).map((client) => client.name).sort(), ['app-b-publisher', 'app-b-subscriber'], 'a\'s connections are gone')
  t.equal(a.adapter.stats.state, 'closed')
  t.doesNotThrow(() => a.adapter.publish('x', Buffer.from('late'), false), 'publish after close does not throw')
  t.equal(a.adapter.stats.dropped, 1, 'and counts as dropped')
  a.adapter.subscribe('y') // ignored after close
  t.equal(a.adapter.stats.topics, 0)
  await a.adapter.close() // again: nothing

  await b.adapter.close()
  t.same(await server.clients(), [], 'no connection left at all')
  t.equal(await server.numsub('fws:x'), 0)
})

t.test('close() without start() and start() twice', async (t) => {
  const adapter = redisAdapter({ url: 'redis://127.0.0.1:1' })
  t.equal(adapter.stats.state, 'idle')
  await adapter.close()
  t.equal(adapter.stats.state, 'closed')
  await t.rejects(adapter.start(new Recorder().context), /start\(\) called in state 'closed'/)

  const server = await startRedisServer(t)
  const started = await startInstance(t, { url: server.url })
  await t.rejects(started.adapter.start(started.recorder.context), /start\(\) called in state 'ready'/)
  await t.rejects(redisAdapter({ url: server.url }).start({} as never), TypeError, 'a context without deliver/log is refused')
})

t.test('clients the user passes in are used, never quit, and left without our channels or listeners', async (t) => {
  const server = await startRedisServer(t)
  const client = new Redis(server.url, { connectionName: 'user-client' })
  const subscriber = new Redis(server.url, { connectionName: 'user-subscriber' })
  t.teardown(() => { client.disconnect(); subscriber.disconnect() })
  await subscriber.subscribe('their-own-channel')
  const listenersBefore = {
    message: subscriber.listenerCount('messageBuffer'),
    error: subscriber.listenerCount('error'),
    ready: subscriber.listenerCount('ready'),
    clientReady: client.listenerCount('ready')
  }

  const user = await startInstance(t, { client, subscriber })
  const other = await startInstance(t, { url: server.url })
  t.equal(user.adapter.stats.state, 'ready', 'ready with already-connected user clients')
  user.adapter.subscribe('shared')
  other.adapter.subscribe('shared')
  await until(async () => await server.numsub('fws:shared') === 2, WAIT, 'both subscribed')
  t.equal(await server.numsub('their-own-channel'), 1)
  other.adapter.publish('shared', Buffer.from('to user'), false)
  user.adapter.publish('shared', Buffer.from('from user'), false)
  await client.publish('their-own-channel', 'not ours') // on the user's subscriber, not delivered by us
  // A channel under our prefix that the user subscribed themselves: not a topic of ours either.
  await subscriber.subscribe('fws:subscribed-by-user')
  await until(async () => await server.numsub('fws:subscribed-by-user') === 1, WAIT, 'the user\'s own subscription')
  const stranger = await startInstance(t, { url: server.url })
  stranger.adapter.publish('subscribed-by-user', Buffer.from('not for the adapter'), false)
  await until(() => user.recorder.received.length === 1 && other.recorder.received.length === 1, WAIT, 'an exchange')
  t.same(user.recorder.on('shared'), ['to user'])
  t.same(other.recorder.on('shared'), ['from user'])
  t.same((await server.clients()).map((c) => c.name).sort(), ['fws-publisher', 'fws-publisher', 'fws-subscriber', 'fws-subscriber', 'user-client', 'user-subscriber'],
    'no extra connection for the user\'s adapter')
  await stranger.adapter.close()

  await user.adapter.close()
  t.equal(client.status, 'ready', 'the user\'s client is still connected')
  t.equal(subscriber.status, 'ready', 'the user\'s subscriber is still connected')
  t.equal(await client.set('still', 'usable'), 'OK', 'and usable')
  t.equal(await server.numsub('fws:shared'), 1, 'our channel was unsubscribed on the user\'s subscriber')
  t.equal(await server.numsub('their-own-channel'), 1, 'their channel was left alone')
  t.same({
    message: subscriber.listenerCount('messageBuffer'),
    error: subscriber.listenerCount('error'),
    ready: subscriber.listenerCount('ready'),
    clientReady: client.listenerCount('ready')
  }, listenersBefore, 'our listeners were removed')
  t.same((await server.clients()).map((c) => c.name).sort(), ['fws-publisher', 'fws-subscriber', 'user-client', 'user-subscriber'])
})

t.test('with only a client, the adapter duplicates it to subscribe and quits only the duplicate', async (t) => {
  const server = await startRedisServer(t)
  const client = new Redis(server.url, { connectionName: 'user-client', lazyConnect: true })
  t.teardown(() => client.disconnect())
  const user = await startInstance(t, { client, redisOptions: { connectionName: 'dup' } })
  t.equal(client.status, 'ready', 'a lazy user client is connected by start()')
  t.same((await server.clients()).map((c) => c.name).sort(), ['dup-subscriber', 'user-client'])
  const other = await startInstance(t, { url: server.url })
  user.adapter.subscribe('t')
  await until(async () => await server.numsub('fws:t') === 1, WAIT, 'subscribed through the duplicate')
  other.adapter.publish('t', Buffer.from('hi'), false)
  await until(() => user.recorder.received.length === 1, WAIT, 'delivery through the duplicate')
  await user.adapter.close()
  t.equal(client.status, 'ready', 'the user\'s client stays')
  t.same((await server.clients()).map((c) => c.name).sort(), ['fws-publisher', 'fws-subscriber', 'user-client'], 'the duplicate is gone')
})

t.test('prefixes keep apps on one Redis apart', async (t) => {
  const server = await startRedisServer(t)
  const a1 = await startInstance(t, { url: server.url, prefix: 'app-a:' })
  const a2 = await startInstance(t, { url: server.url, prefix: 'app-a:' })
  const b1 = await startInstance(t, { url: server.url, prefix: 'app-b:' })
  for (const instance of [a1, a2, b1]) instance.adapter.subscribe('room')
  await until(async () => (await server.channels()).length === 2, WAIT, 'two channels')
  t.same(await server.channels(), ['app-a:room', 'app-b:room'])
  a1.adapter.publish('room', Buffer.from('for app a'), false)
  await until(() => a2.recorder.received.length === 1, WAIT, 'delivery within app a')
  await sleep(100)
  t.equal(b1.recorder.received.length, 0, 'app b saw nothing')
})

t.test('messages that are not ours are rejected, counted and logged once', async (t) => {
  const server = await startRedisServer(t)
  const a = await startInstance(t, { url: server.url })
  a.adapter.subscribe('t')
  await until(async () => await server.numsub('fws:t') === 1, WAIT, 'subscribed')
  const header = (flags: number, version = 1): Buffer => Buffer.from([0xfe, version, flags, 1, 2, 3, 4, 5, 6, 7, 8])
  const foreign = [
    Buffer.from('plain text from redis-cli'),
    Buffer.from([0xfe, 1, 0]), // shorter than a header
    Buffer.concat([header(0, 2), Buffer.from('a future version')]),
    Buffer.concat([header(0x02), Buffer.from('reserved flag bits set')]),
    Buffer.concat([header(0), Buffer.from([0xc3, 0x28])]) // "text" that is not UTF-8
  ]
  const valid = Buffer.concat([header(1), Buffer.from('a valid binary message')])
  t.equal(valid.length, ENVELOPE_HEADER_LENGTH + 22)
  const publisher = new Redis(server.url)
  t.teardown(() => publisher.disconnect())
  for (const message of foreign) await publisher.publish('fws:t', message)
  await publisher.publish('fws:t', valid)
  await until(() => a.recorder.received.length === 1, WAIT, 'the valid message')
  t.same(a.recorder.received.map((d) => [d.binary, d.data.toString()]), [[true, 'a valid binary message']])
  t.equal(a.adapter.stats.rejected, foreign.length, 'every foreign message rejected')
  t.equal(a.recorder.logged('warn', /not from this adapter/).length, 1, 'logged once')
})

t.test('a deliver that throws is caught and logged once; delivery goes on', async (t) => {
  const server = await startRedisServer(t)
  const a = await startInstance(t, { url: server.url })
  const b = await startInstance(t, { url: server.url })
  b.adapter.subscribe('t')
  await until(async () => await server.numsub('fws:t') === 1, WAIT, 'subscribed')
  let calls = 0
  b.recorder.onDeliver = () => {
    calls++
    throw new Error('a bug in the plugin')
  }
  for (let i = 0; i < 3; i++) a.adapter.publish('t', Buffer.from(String(i)), false)
  await until(() => calls === 3, WAIT, 'three deliveries')
  t.equal(b.adapter.stats.deliveryErrors, 3)
  t.equal(b.recorder.logged('error', /deliver threw/).length, 1)
})

t.test('Redis refusing commands (ACL): publish and subscribe errors are counted and logged, never thrown', async (t) => {
  const server = await startRedisServer(t)
  // A user allowed on one channel only (Redis 7 users start without channel permissions).
  t.equal(await server.command('ACL', 'SETUSER', 'limited', 'on', '>secret', '~*', '&fws:allowed', '+@all'), 'OK')
  const url = `redis://limited:secret@127.0.0.1:${server.port}`
  const a = await startInstance(t, { url })
  const b = await startInstance(t, { url: server.url })
  b.adapter.subscribe('forbidden')
  b.adapter.subscribe('allowed')
  await until(async () => (await server.channels()).length === 2, WAIT, 'b subscribed')

  t.doesNotThrow(() => a.adapter.subscribe('forbidden'))
  a.adapter.subscribe('allowed')
  await until(() => a.recorder.logged('error', /Redis refused to subscribe/).length === 1, WAIT, 'the refusal logged')
  t.match(a.recorder.logged('error', /refused to subscribe/)[0].obj, { topics: ['forbidden'], err: /NOPERM/ })
  await until(async () => await server.numsub('fws:allowed') === 2, WAIT, 'the allowed topic subscribed')
  t.equal(await server.numsub('fws:forbidden'), 1, 'only b on the forbidden channel')

  for (let i = 0; i < 3; i++) t.doesNotThrow(() => a.adapter.publish('forbidden', Buffer.from('no'), false))
  a.adapter.publish('allowed', Buffer.from('yes'), false)
  await until(() => a.adapter.stats.dropped === 3, WAIT, 'three refused publishes counted as dropped')
  await until(() => b.recorder.received.length === 1, WAIT, 'the allowed one arrived')
  t.same(b.recorder.on('allowed'), ['yes'])
  t.equal(a.recorder.logged('error', /refused a publish/).length, 1, 'refused publishes are logged once')
  t.equal(a.adapter.stats.state, 'ready', 'refusals are not an outage')
  await sleep(100)
  t.same(b.recorder.on('forbidden'), [])
})
