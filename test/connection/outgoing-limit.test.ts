import t from 'tap'
import { Duplex } from 'node:stream'
import { WebSocket, createWebSocket } from '../../src/connection/index.js'
import { parseFrames } from '../helpers/frames.js'
import { turn, sleep } from '../helpers/wait.js'

/** A transport whose writes complete only when the test says so (a slow reader). */
class SlowPeer extends Duplex {
  readonly pending: Array<() => void> = []
  readonly written: Buffer[] = []
  constructor () { super({ allowHalfOpen: true, highWaterMark: 16 * 1024 }) }
  override _read (): void {}
  override _write (chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.written.push(chunk)
    this.pending.push(() => callback())
  }
  override _writev (chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    for (const { chunk } of chunks) this.written.push(chunk)
    this.pending.push(() => callback())
  }
  readAll (): void {
    while (this.pending.length > 0) this.pending.shift()!()
  }
}

const KiB = 1024

t.test("policy 'close': a send over maxBufferedAmount fails the connection with 1008", async (t) => {
  const peer = new SlowPeer()
  const socket = createWebSocket(peer, { role: 'server', maxBufferedAmount: 64 * KiB, closeTimeout: 100 })
  t.teardown(() => socket.terminate())
  const errors: Error[] = []
  t.equal(socket.send(Buffer.alloc(40 * KiB)), false, 'over the high-water mark: false, but queued')
  await turn()
  t.equal(socket.send(Buffer.alloc(40 * KiB)), false, 'still under the cap: queued')
  await turn()
  t.ok(socket.bufferedAmount >= 64 * KiB, `queue at ${socket.bufferedAmount} bytes`)
  const result = socket.send(Buffer.alloc(10), (error) => { if (error) errors.push(error) })
  t.equal(result, false)
  t.equal(socket.readyState, WebSocket.CLOSING, 'the connection is being closed')
  await turn()
  t.equal(errors.length, 1, 'the callback got an error')
  // The peer catches up: everything queued reaches the wire.
  for (let i = 0; i < 5; i++) {
    peer.readAll()
    await turn()
  }
  const frames = parseFrames(Buffer.concat(peer.written)).frames
  t.equal(frames.length, 3, 'two messages, then a close frame; the third message was not sent')
  t.equal(frames[2].closeCode, 1008)
  const codes: number[] = []
  socket.on('close', (code) => codes.push(code))
  // The close timer is unref'd (a live socket keeps a real server running); wait on a ref'd one.
  await sleep(300)
  t.same(codes, [1006], 'the peer never answered: destroyed after the close timeout')
})

t.test("policy 'drop': messages over the cap are dropped and the connection stays open", async (t) => {
  const peer = new SlowPeer()
  const socket = createWebSocket(peer, { role: 'server', maxBufferedAmount: 32 * KiB, backpressurePolicy: 'drop' })
  t.teardown(() => socket.terminate())
  socket.send(Buffer.alloc(40 * KiB, 1))
  await turn()
  let dropped: Error | null | undefined
  t.equal(socket.send('dropped', (error) => { dropped = error }), false)
  await turn()
  t.ok(dropped instanceof Error, 'the callback says it was not sent')
  t.equal(socket.readyState, WebSocket.OPEN)
  peer.readAll()
  await turn()
  t.equal(socket.bufferedAmount, 0)
  t.equal(socket.send('after'), true, 'accepted again once the peer caught up')
  await turn()
  const payloads = parseFrames(Buffer.concat(peer.written)).frames.map((f) => f.payload.length)
  t.same(payloads, [40 * KiB, 5], 'the dropped message never reached the wire')
})

t.test("'drain' is emitted when the queue empties after send returned false", async (t) => {
  const peer = new SlowPeer()
  const socket = createWebSocket(peer, { role: 'server' })
  t.teardown(() => socket.terminate())
  let drains = 0
  socket.on('drain', () => { drains++ })
  t.equal(socket.send(Buffer.alloc(20 * KiB)), false)
  await turn()
  t.equal(drains, 0)
  peer.readAll()
  await turn()
  t.equal(drains, 1)
  t.equal(socket.bufferedAmount, 0, 'bufferedAmount is exact: nothing left')
})

t.test('a single send larger than the cap goes out on an empty queue', async (t) => {
  const peer = new SlowPeer()
  const socket = createWebSocket(peer, { role: 'server', maxBufferedAmount: 1 * KiB })
  t.teardown(() => socket.terminate())
  socket.send(Buffer.alloc(100 * KiB))
  await turn()
  t.equal(socket.readyState, WebSocket.OPEN)
  t.equal(parseFrames(Buffer.concat(peer.written)).frames[0].payload.length, 100 * KiB)
})
