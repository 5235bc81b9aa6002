/**
 * Topics across instances, through the plugin: Fastify apps with `redisAdapter` on one real
 * redis-server behave as one for `socket.subscribe()` and `app.publish()` (issue 14). Clients
 * are our own `connect()` over real sockets. Also: the in-process adapter's bus between apps,
 * Redis going away and coming back, `app.close()` leaving no Redis connection, and one test
 * with instances in separate processes.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket, { MemoryBus, connect, memoryAdapter, type TopicAdapter, type WebSocket } from '../../src/index.js'
import { redisAdapter } from '../../src/adapters/redis/index.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { EventLog, EVENTS, sleep, until, withTimeout } from '../helpers/wait.js'
import { until as untilAsync } from './adapter-harness.js'

const WAIT = 5000

/** An app instance: `/room/:name` subscribes its socket to the room; `/say/:name` publishes. */
async function instance (t: Test, adapter: TopicAdapter): Promise<{ app: FastifyInstance, url: string }> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket, { adapter })
  app.get<{ Params: { name: string } }>('/room/:name', { websocket: true }, (socket, request) => {
    socket.subscribe(`room:${request.params.name}`)
    socket.on('message', (data, isBinary) => app.publish(`room:${request.params.name}`, data, { binary: isBinary, except: socket }))
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `ws://127.0.0.1:${(app.server.address() as { port: number }).port}` }
}

async function join (t: Test, url: string, room: string): Promise<{ socket: WebSocket, log: EventLog }> {
  const socket = await connect(`${url}/room/${room}`)
  t.teardown(() => socket.terminate())
  return { socket, log: new EventLog(socket, EVENTS) }
}

function texts (log: EventLog): string[] {
  return log.of('message').map(([data, isBinary]) => `${isBinary === true ? 'bin' : 'text'}:${(data as Buffer).toString(isBinary === true ? 'hex' : 'utf8')}`)
}

t.test('two instances on Redis: every subscriber everywhere gets every message once, in order, text and binary', async (t) => {
  const redis = await startRedisServer(t)
  const a = await instance(t, redisAdapter({ url: redis.url }))
  const b = await instance(t, redisAdapter({ url: redis.url }))
  const onA = await join(t, a.url, 'lobby')
  const onB1 = await join(t, b.url, 'lobby')
  const onB2 = await join(t, b.url, 'lobby')
  await until(() => a.app.websocketServer.stats().topics === 1 && b.app.websocketServer.stats().topics === 1, WAIT, 'both instances subscribed')
  await redisSubscribers(redis, 'fws:room:lobby', 2)

  const expected: string[] = []
  for (let i = 0; i < 100; i++) {
    if (i % 3 === 0) {
      const bytes = Buffer.from([0xff, i, 0xfe])
      a.app.publish('room:lobby', bytes)
      expected.push(`bin:${bytes.toString('hex')}`)
    } else {
      a.app.publish('room:lobby', `message ${i} ✓`)
      expected.push(`text:message ${i} ✓`)
    }
  }
  for (const [name, member] of [['A (local)', onA], ['B1', onB1], ['B2', onB2]] as const) {
    await member.log.nth('message', 100, WAIT)
    await sleep(50)
    t.same(texts(member.log), expected, `${name}: all 100, once each, in order, types kept`)
  }
  t.equal(a.app.websocketServer.stats().adapter.messagesOut, 100, 'A handed each message to Redis once')
  t.equal(b.app.websocketServer.stats().adapter.messagesIn, 100, 'B received each once, for both its sockets')
  t.equal(a.app.websocketServer.stats().adapter.messagesIn, 0, 'A never got its own messages back')
})

t.test('a client message fans out to the room on both instances, except its sender', async (t) => {
  const redis = await startRedisServer(t)
  const a = await instance(t, redisAdapter({ url: redis.url }))
  const b = await instance(t, redisAdapter({ url: redis.url }))
  const sender = await join(t, a.url, 'chat')
  const sameInstance = await join(t, a.url, 'chat')
  const other = await join(t, b.url, 'chat')
  await redisSubscribers(redis, 'fws:room:chat', 2)
  sender.socket.send('hello from A')
  await other.log.nth('message', 1, WAIT)
  await sameInstance.log.nth('message', 1, WAIT)
  t.same(texts(other.log), ['text:hello from A'])
  t.same(texts(sameInstance.log), ['text:hello from A'])
  await sleep(100)
  t.same(texts(sender.log), [], 'not echoed to its sender')
})

t.test('Redis subscriptions follow interest: the first socket subscribes the instance, the last one leaving unsubscribes it', async (t) => {
  const redis = await startRedisServer(t)
  const a = await instance(t, redisAdapter({ url: redis.url }))
  t.equal(await redis.numsub('fws:room:quiet'), 0)
  const first = await join(t, a.url, 'quiet')
  const second = await join(t, a.url, 'quiet')
  await redisSubscribers(redis, 'fws:room:quiet', 1)
  first.socket.close()
  await sleep(200)
  t.equal(await redis.numsub('fws:room:quiet'), 1, 'still one instance interested')
  second.socket.close()
  await redisSubscribers(redis, 'fws:room:quiet', 0)
})

t.test('Redis stops and comes back: local delivery goes on, remote delivery resumes', async (t) => {
  const redis = await startRedisServer(t)
  const options = { url: redis.url, maxReconnectDelay: 200 }
  const a = await instance(t, redisAdapter(options))
  const b = await instance(t, redisAdapter(options))
  const local = await join(t, a.url, 'r')
  const remote = await join(t, b.url, 'r')
  await redisSubscribers(redis, 'fws:room:r', 2)
  a.app.publish('room:r', 'before')
  await remote.log.nth('message', 1, WAIT)

  await redis.stop()
  await until(() => a.app.websocketServer.stats().adapter.state === 'reconnecting', WAIT, 'A to notice')
  t.equal(a.app.publish('room:r', 'during'), 1, 'publishing works locally during the outage')
  await local.log.nth('message', 2, WAIT)

  await redis.start()
  await until(() => a.app.websocketServer.stats().adapter.state === 'ready' && b.app.websocketServer.stats().adapter.state === 'ready', 10_000, 'both to reconnect')
  await redisSubscribers(redis, 'fws:room:r', 2)
  a.app.publish('room:r', 'after')
  await until(() => texts(remote.log).includes('text:after'), WAIT, 'remote delivery to resume')
  t.same(texts(local.log), ['text:before', 'text:during', 'text:after'], 'local: every message')
  t.same(texts(remote.log).filter((m) => m !== 'text:during'), ['text:before', 'text:after'], 'remote: before and after (during: held, or dropped, as documented)')
})

t.test('app.close() closes the sockets first, then leaves no Redis connection', async (t) => {
  const redis = await startRedisServer(t)
  const before = (await redis.clients()).length
  const a = await instance(t, redisAdapter({ url: redis.url }))
  const member = await join(t, a.url, 'x')
  await untilAsync(async () => (await redis.clients()).length === before + 2, WAIT, 'two Redis connections')
  await a.app.close()
  const [code] = await member.log.nth('close', 1, WAIT) as [number]
  t.equal(code, 1001, 'the socket was closed with 1001')
  t.equal((await redis.clients()).length, before, 'no Redis connection left')
  t.equal(a.app.websocketServer.stats().adapter.state, 'closed')
})

t.test('the in-process adapter connects apps in one process through a shared bus', async (t) => {
  const bus = new MemoryBus()
  const a = await instance(t, memoryAdapter({ bus }))
  const b = await instance(t, memoryAdapter({ bus }))
  const onB = await join(t, b.url, 'm')
  await sleep(20)
  a.app.publish('room:m', Buffer.from([1, 2, 3]))
  a.app.publish('room:m', 'text')
  await onB.log.nth('message', 2, WAIT)
  t.same(texts(onB.log), ['bin:010203', 'text:text'])
})

t.test('a bad adapter fails register with FST_WS_INVALID_OPTION', async (t) => {
  await t.rejects(async () => { await Fastify().register(websocket, { adapter: { publish () {} } as unknown as TopicAdapter }) },
    { code: 'FST_WS_INVALID_OPTION', message: /adapter.*missing start, subscribe, unsubscribe, close/ })
})

t.test('instances in separate processes behave as one', async (t) => {
  const redis = await startRedisServer(t)
  const children = await Promise.all([0, 1].map(async () => await startChild(t, redis.url)))
  const members = await Promise.all(children.map(async ({ url }) => await join(t, url, 'procs')))
  await redisSubscribers(redis, 'fws:room:procs', 2)
  members[0].socket.send('from the first process')
  members[1].socket.send('from the second process')
  await members[0].log.nth('message', 1, WAIT)
  await members[1].log.nth('message', 1, WAIT)
  t.same(texts(members[0].log), ['text:from the second process'])
  t.same(texts(members[1].log), ['text:from the first process'])
})

/** Waits until `channel` has `count` subscribers on the server. */
async function redisSubscribers (redis: RedisServer, channel: string, count: number): Promise<void> {
  await untilAsync(async () => await redis.numsub(channel) === count, WAIT, `${count} subscriber(s) of ${channel}`)
}

/** The chat-room app above in a child process, on the built package. */
async function startChild (t: Test, redisUrl: string): Promise<{ url: string }> {
  const source = `
    import Fastify from 'fastify'
    import websocket from 'fastify-websocket-native'
    import { redisAdapter } from 'fastify-websocket-native/redis'
    const app = Fastify()
    await app.register(websocket, { adapter: redisAdapter({ url: process.env.REDIS_URL }) })
    app.get('/room/:name', { websocket: true }, (socket, request) => {
      const topic = 'room:' + request.params.name
      socket.subscribe(topic)
      socket.on('message', (data, isBinary) => app.publish(topic, data, { binary: isBinary, except: socket }))
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    process.stdout.write(JSON.stringify({ port: app.server.address().port }) + '\\n')
    process.on('SIGTERM', () => { app.close().then(() => process.exit(0)) })
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: new URL('../..', import.meta.url),
    env: { ...process.env, REDIS_URL: redisUrl, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await withTimeout(once(child, 'exit'), WAIT, 'the child to exit').catch(() => child.kill('SIGKILL'))
    }
  })
  const [line] = await withTimeout(once(child.stdout, 'data'), 10_000, 'the child to listen') as [Buffer]
  return { url: `ws://127.0.0.1:${(JSON.parse(line.toString()) as { port: number }).port}` }
}
