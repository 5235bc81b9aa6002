import t from 'tap'
import { Duplex } from 'node:stream'
import { TopicRegistry, WebSocket, createWebSocket } from '../../src/connection/index.js'
import { openPair } from '../helpers/pair.js'
import { turn, until } from '../helpers/wait.js'
import { parseFrames } from '../helpers/frames.js'

/** Records the exact chunk objects written, to prove the frame is shared, not copied. */
class RecordingPeer extends Duplex {
  readonly chunks: Buffer[] = []
  constructor () { super({ allowHalfOpen: true }) }
  override _read (): void {}
  override _write (chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk)
    callback()
  }
  override _writev (chunks: Array<{ chunk: Buffer }>, callback: () => void): void {
    for (const { chunk } of chunks) this.chunks.push(chunk)
    callback()
  }
}

t.test('publish encodes once and writes the same bytes to every subscriber', async (t) => {
  const topics = new TopicRegistry()
  const peers = Array.from({ length: 3 }, () => new RecordingPeer())
  const sockets = peers.map((peer) => createWebSocket(peer, { role: 'server', topics }))
  t.teardown(() => { for (const socket of sockets) socket.terminate() })
  for (const socket of sockets) socket.subscribe('news')
  const big = Buffer.alloc(5000, 7)
  t.equal(topics.publish('news', big), 3)
  t.equal(topics.publish('news', 'small text'), 3)
  await turn()
  const first = peers[0].chunks
  const shared = first.find((chunk) => chunk.length === 5000)
  t.ok(shared !== undefined, 'the large payload is written as its own chunk')
  for (const peer of peers.slice(1)) {
    t.ok(peer.chunks.includes(shared!), 'the identical Buffer object went to every subscriber (encoded once, never copied)')
    t.same(Buffer.concat(peer.chunks), Buffer.concat(first), 'the same bytes')
  }
  const frames = parseFrames(Buffer.concat(first)).frames
  t.same(frames.map((f) => [f.opcode, f.payload.length]), [[2, 5000], [1, 10]])
})

t.test('except, unsubscribe, topics, and leaving every topic on close', async (t) => {
  const topics = new TopicRegistry()
  const a = openPair(t, { topics })
  const b = openPair(t, { topics })
  a.server.subscribe('room')
  a.server.subscribe('lobby')
  b.server.subscribe('room')
  t.same([...a.server.topics].sort(), ['lobby', 'room'])
  t.equal(topics.publish('room', 'hi all', { except: a.server }), 1)
  t.equal(topics.publish('room', 'hi b too', { except: [a.server] }), 1)
  await b.clientLog.nth('message', 2)
  t.same(b.clientLog.of('message').map((e) => String(e[0])), ['hi all', 'hi b too'])
  t.equal(a.clientLog.count('message'), 0)

  b.server.unsubscribe('room')
  t.equal(topics.subscriberCount('room'), 1)
  t.equal(topics.publish('nobody', 'x'), 0)
  a.server.terminate()
  await until(() => a.server.readyState === WebSocket.CLOSED)
  t.equal(topics.subscriberCount('room'), 0, 'a closed socket leaves its topics')
  t.equal(topics.subscriberCount('lobby'), 0)
  t.equal(a.server.topics.size, 0)
})

t.test('a published message never lands inside our own fragmented message', async (t) => {
  const topics = new TopicRegistry()
  const { server, clientLog } = openPair(t, { topics })
  server.subscribe('t')
  server.send('part 1, ', { fin: false })
  topics.publish('t', 'published')
  server.send('part 2', { fin: true })
  await clientLog.nth('message', 2)
  t.same(clientLog.of('message').map((e) => String(e[0])), ['part 1, part 2', 'published'])
})

t.test('client sockets have no registry: subscribe throws', async (t) => {
  const { client } = openPair(t)
  t.throws(() => client.subscribe('x'), { code: 'WS_ERR_INVALID_STATE' })
})
