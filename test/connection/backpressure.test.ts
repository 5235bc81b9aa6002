import t from 'tap'
import { Duplex } from 'node:stream'
import { createWebSocket } from '../../src/connection/index.js'
import { OP, clientFrame } from '../helpers/frames.js'
import { turn } from '../helpers/wait.js'

/** A transport whose peer never reads: writes are accepted but never complete. */
class NeverReadingPeer extends Duplex {
  writes = 0
  constructor () { super({ allowHalfOpen: true }) }
  override _read (): void {}
  override _write (_chunk: Buffer, _encoding: BufferEncoding, _callback: (error?: Error | null) => void): void {
    this.writes++ // the callback is never called: the kernel buffer is "full"
  }
}

t.test('a ping flood from a peer that never reads stops being read once 1 MiB of pongs is queued', async (t) => {
  const stream = new NeverReadingPeer()
  const socket = createWebSocket(stream, { role: 'server' })
  let pings = 0
  socket.on('ping', () => { pings++ })
  t.teardown(() => socket.terminate())

  // 125-byte pings: each queues a 127-byte pong. 20 000 of them would be ~2.5 MiB of pongs.
  const ping = clientFrame(OP.PING, Buffer.alloc(125, 7))
  const batch = Buffer.concat(Array.from({ length: 100 }, () => ping))
  for (let i = 0; i < 200; i++) {
    stream.push(Buffer.from(batch))
    await turn()
  }
  t.ok(stream.writableLength >= 1024 * 1024, 'the pong backlog reached the pause threshold')
  t.ok(stream.writableLength < 1024 * 1024 + 100 * 127 + 1024, 'the backlog stopped growing after one more chunk')
  t.ok(stream.isPaused(), 'reading from the peer is paused')
  t.ok(pings < 20_000, `not every ping was processed (${pings})`)
})

t.test('reading resumes when the backlog drains', async (t) => {
  const callbacks: Array<() => void> = []
  const stream = new Duplex({
    allowHalfOpen: true,
    read () {},
    write (_chunk, _encoding, callback) { callbacks.push(callback) }
  })
  const socket = createWebSocket(stream, { role: 'server' })
  const messages: number[] = []
  socket.on('message', (data) => { messages.push(data.length); socket.send(data) })
  t.teardown(() => socket.terminate())

  const big = clientFrame(OP.BINARY, Buffer.alloc(600 * 1024, 1))
  stream.push(Buffer.from(big))
  stream.push(Buffer.from(big))
  await turn()
  t.same(messages, [600 * 1024, 600 * 1024], 'both messages were read and echoed')
  t.ok(stream.isPaused(), 'paused with 1.2 MiB queued')
  stream.push(Buffer.from(clientFrame(OP.TEXT, 'after')))
  await turn()
  t.equal(messages.length, 2, 'nothing more is read while paused')

  // The peer reads everything: the writes complete and the stream drains.
  while (callbacks.length > 0) callbacks.shift()!()
  await turn()
  t.notOk(stream.isPaused(), 'reading resumed after drain')
  t.equal(messages.length, 3, 'the waiting message was read')
})

t.test('a client never pauses on its write backlog (two endpoints must not wait on each other)', async (t) => {
  const stream = new NeverReadingPeer()
  const socket = createWebSocket(stream, { role: 'client' })
  t.teardown(() => socket.terminate())
  socket.send(Buffer.alloc(2 * 1024 * 1024))
  stream.push(Buffer.from([0x81, 0x02, 0x68, 0x69])) // unmasked "hi" from a server
  const got = await new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString())))
  t.equal(got, 'hi')
  t.notOk(stream.isPaused())
})
