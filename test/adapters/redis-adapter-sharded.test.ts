/**
 * Sharded pub/sub (`SPUBLISH` / `SSUBSCRIBE`, Redis 7): on a single redis-server (which
 * accepts the sharded commands too) and on a real three-master Redis Cluster that the test
 * forms itself with `redis-cli --cluster create`.
 */
import t from 'tap'
import { Cluster, Redis } from 'ioredis'
import { startRedisCluster, startRedisServer } from '../helpers/redis-server.js'
import { sleep, startInstance, until } from './adapter-harness.js'

const WAIT = 5000

t.test('sharded on a single node: SSUBSCRIBE follows interest, messages flow both ways, apart from classic channels', async (t) => {
  const server = await startRedisServer(t)
  const a = await startInstance(t, { url: server.url, sharded: true, maxReconnectDelay: 200 })
  const b = await startInstance(t, { url: server.url, sharded: true, maxReconnectDelay: 200 })
  const classic = await startInstance(t, { url: server.url })
  a.adapter.subscribe('room')
  b.adapter.subscribe('room')
  classic.adapter.subscribe('room')
  await until(async () => await server.numsub('fws:room', true) === 2, WAIT, 'two sharded subscribers')
  t.same(await server.channels(true), ['fws:room'], 'a shard channel')
  t.equal(await server.numsub('fws:room'), 1, 'only the classic adapter on the classic channel')

  a.adapter.publish('room', Buffer.from('from a'), false)
  b.adapter.publish('room', Buffer.from([0xff, 0x00]), true)
  await until(() => a.recorder.received.length === 1 && b.recorder.received.length === 1, WAIT, 'both directions')
  t.same(b.recorder.on('room'), ['from a'])
  t.same(a.recorder.on('room'), ['bin:ff00'])
  await sleep(100)
  t.same(classic.recorder.received, [], 'classic and sharded channels do not mix')

  // Restarted Redis: the sharded subscription comes back.
  await server.restart()
  await until(() => a.adapter.stats.state === 'ready' && b.adapter.stats.state === 'ready', WAIT, 'ready again')
  await until(async () => await server.numsub('fws:room', true) === 2, WAIT, 'resubscribed with SSUBSCRIBE')
  a.adapter.publish('room', Buffer.from('after restart'), false)
  await until(() => b.recorder.on('room').includes('after restart'), WAIT, 'delivery after the restart')

  // The user's own clients in sharded mode: on close, SUNSUBSCRIBE on their subscriber, which stays.
  const userClient = new Redis(server.url)
  const userSubscriber = new Redis(server.url)
  t.teardown(() => { userClient.disconnect(); userSubscriber.disconnect() })
  const user = await startInstance(t, { client: userClient, subscriber: userSubscriber, sharded: true })
  user.adapter.subscribe('room')
  user.adapter.subscribe('lobby')
  await until(async () => await server.numsub('fws:room', true) === 3, WAIT, 'the user\'s subscriber joined')
  a.adapter.publish('room', Buffer.from('to the user'), false)
  await until(() => user.recorder.received.length === 1, WAIT, 'delivery through the user\'s subscriber')
  await user.adapter.close()
  t.equal(await server.numsub('fws:room', true), 2, 'left the shard channel')
  t.equal(await server.numsub('fws:lobby', true), 0)
  t.equal(userSubscriber.status, 'ready', 'the user\'s subscriber stays connected')

  b.adapter.unsubscribe('room')
  await until(async () => await server.numsub('fws:room', true) === 1, WAIT, 'b left with SUNSUBSCRIBE')
  await a.adapter.close()
  await b.adapter.close()
  await until(async () => (await server.channels(true)).length === 0, WAIT, 'no shard channel left')
})

t.test('sharded on a three-node Redis Cluster: channels spread over the shards, every message once, own ones skipped', async (t) => {
  const cluster = await startRedisCluster(t)
  // The user's clients (as @fastify/redis or their own code would create them).
  const clientA = new Cluster(cluster.nodes)
  const clientB = new Cluster(cluster.nodes)
  t.teardown(() => { clientA.disconnect(); clientB.disconnect() })
  const a = await startInstance(t, { client: clientA, sharded: true })
  const b = await startInstance(t, { client: clientB, sharded: true })
  t.equal(a.adapter.stats.state, 'ready')
  t.equal(b.adapter.stats.state, 'ready')

  const topics = Array.from({ length: 30 }, (_, i) => `topic-${i}`)
  for (const topic of topics) b.adapter.subscribe(topic)
  a.adapter.subscribe('topic-0')
  const perNode = async (): Promise<string[][]> => await Promise.all(cluster.servers.map(async (server) => await server.channels(true)))
  await until(async () => (await perNode()).flat().length === 30, WAIT, 'thirty shard channels')
  const spread = await perNode()
  t.comment(`shard channels per node: ${spread.map((channels) => channels.length).join(', ')}`)
  t.ok(spread.every((channels) => channels.length > 0), 'every shard holds some of the channels')
  t.same(spread.flat().sort(), topics.map((topic) => `fws:${topic}`).sort())
  t.equal(await cluster.servers.reduce(async (sum, server) => await sum + await server.numsub('fws:topic-0', true), Promise.resolve(0)), 2,
    'topic-0 has both instances as sharded subscribers')

  for (let round = 0; round < 3; round++) {
    for (const topic of topics) a.adapter.publish(topic, Buffer.from(`${topic}#${round}`), false)
  }
  b.adapter.publish('topic-0', Buffer.from('from b'), false)
  await until(() => b.recorder.received.length === 90 && a.recorder.received.length === 1, WAIT, 'every message')
  await sleep(200)
  for (const topic of topics) {
    t.same(b.recorder.on(topic), [0, 1, 2].map((round) => `${topic}#${round}`), `${topic}: once each, in order`)
  }
  t.same(a.recorder.received.map((d) => d.data.toString()), ['from b'], 'a got b\'s message and none of its own')
  t.equal(b.recorder.received.length, 90, 'b got none of its own')

  await a.adapter.close()
  await b.adapter.close()
  t.equal(clientA.status, 'ready', 'the user\'s Cluster clients stay connected')
  t.equal(clientB.status, 'ready')
  // Every connection left on the nodes belongs to the user's clients: ours (the duplicated
  // subscribers, their sharded subscriber connections) are gone.
  const userPorts = new Set<number>()
  for (const client of [clientA, clientB]) {
    for (const node of client.nodes('all')) {
      const port = (node as unknown as { stream?: { localPort?: number } }).stream?.localPort
      if (port !== undefined) userPorts.add(port)
    }
  }
  for (const [index, server] of cluster.servers.entries()) {
    const left = await server.clients()
    const foreign = left.filter((client) => !userPorts.has(Number(client.addr.split(':').pop())))
    t.same(foreign.map((client) => `${client.name} ${client.cmd}`), [], `node ${index}: no connection of ours left`)
  }
  t.same((await perNode()).flat(), [], 'no shard channel left')
})
