import t from 'tap'
import { WebSocket } from '../../src/connection/index.js'
import { openPair } from '../helpers/pair.js'
import { until, turn } from '../helpers/wait.js'

t.test('for await yields every message in order and ends when the socket closes', async (t) => {
  const { server, client } = openPair(t)
  const seen: Array<[string, boolean]> = []
  const loop = (async () => {
    for await (const { data, isBinary } of server) seen.push([data.toString(), isBinary])
  })()
  client.send('a')
  client.send(Buffer.from('b'))
  client.send('c')
  await until(() => seen.length === 3)
  client.close(1000)
  await loop
  t.same(seen, [['a', false], ['b', true], ['c', false]])
  t.equal(server.readyState, WebSocket.CLOSED)
})

t.test('messages that arrive before the first next() are not lost', async (t) => {
  const { server, client } = openPair(t)
  const iterator = server[Symbol.asyncIterator]()
  client.send('early 1')
  client.send('early 2')
  await until(() => client.bufferedAmount === 0)
  for (let i = 0; i < 5; i++) await turn()
  t.equal((await iterator.next()).value?.data.toString(), 'early 1')
  t.equal((await iterator.next()).value?.data.toString(), 'early 2')
})

t.test('breaking out of the loop closes the socket with 1000', async (t) => {
  const { server, client, clientLog } = openPair(t)
  client.send('one')
  for await (const message of server) {
    t.equal(message.data.toString(), 'one')
    break
  }
  const [code] = await clientLog.nth('close') as [number]
  t.equal(code, 1000)
  t.not(server.readyState, WebSocket.OPEN)
})

t.test('a slow loop pauses reading at 16 queued messages and resumes as it catches up', async (t) => {
  const { server, client, serverEnd } = openPair(t)
  const iterator = server[Symbol.asyncIterator]()
  for (let i = 0; i < 40; i++) client.send(`m${i}`)
  await until(() => serverEnd.isPaused(), 2000, 'reading to pause')
  t.notOk(server.isPaused, 'the loop\'s pause is its own: isPaused reports the application\'s pause() only')
  const got: string[] = []
  for (let i = 0; i < 40; i++) got.push((await iterator.next()).value!.data.toString())
  t.same(got, Array.from({ length: 40 }, (_v, i) => `m${i}`), 'all 40, in order, none lost')
  t.notOk(serverEnd.isPaused(), 'resumed')
})

t.test('iterating a closed socket ends at once', async (t) => {
  const { server } = openPair(t)
  server.terminate()
  await until(() => server.readyState === WebSocket.CLOSED)
  const result = await server[Symbol.asyncIterator]().next()
  t.equal(result.done, true)
})
