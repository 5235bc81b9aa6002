/**
 * Write batching: everything written in one tick leaves in one write to the transport (small
 * frames joined into one buffer, large chunks passed through uncopied, all in one cork).
 * DESIGN.md: the write system call, not the codec, is the cost of small messages.
 */
import t from 'tap'
import { SocketWriter, createWebSocket } from '../../src/connection/index.js'
import { turn, until } from '../helpers/wait.js'
import { SwallowingDuplex } from '../helpers/pair.js'
import { OP, clientFrame, parseFrames } from '../helpers/frames.js'

t.test('several sends in one tick produce one write on the transport', async (t) => {
  const stream = new SwallowingDuplex()
  const socket = createWebSocket(stream, { role: 'server' })
  t.teardown(() => socket.terminate())
  socket.send('one')
  socket.send(Buffer.from([2]))
  socket.ping('three')
  socket.send('four'.repeat(100))
  t.equal(stream.writeCalls + stream.writevCalls, 0, 'nothing written synchronously')
  await turn()
  t.equal(stream.writevCalls + stream.writeCalls, 1, 'one write call for four frames')
  const frames = parseFrames(stream.written).frames
  t.same(frames.map((f) => [f.opcode, f.payload.toString('latin1')]), [
    [OP.TEXT, 'one'],
    [OP.BINARY, '\u0002'],
    [OP.PING, 'three'],
    [OP.TEXT, 'four'.repeat(100)]
  ], 'in order')
})

t.test('the replies to one incoming chunk leave in one write', async (t) => {
  const stream = new SwallowingDuplex()
  const socket = createWebSocket(stream, { role: 'server' })
  t.teardown(() => socket.terminate())
  const pings: string[] = []
  socket.on('ping', (data) => pings.push(data.toString()))
  stream.push(Buffer.concat([clientFrame(OP.PING, 'a'), clientFrame(OP.PING, 'b'), clientFrame(OP.PING, 'c')]))
  await until(() => pings.length === 3)
  await turn()
  t.equal(stream.writevCalls + stream.writeCalls, 1, 'three pongs, one write')
  t.same(parseFrames(stream.written).frames.map((f) => [f.opcode, f.payload.toString()]), [
    [OP.PONG, 'a'], [OP.PONG, 'b'], [OP.PONG, 'c']
  ])
})

t.test('writes in different ticks are separate writes (the cork is released every tick)', async (t) => {
  const stream = new SwallowingDuplex()
  const socket = createWebSocket(stream, { role: 'server' })
  t.teardown(() => socket.terminate())
  socket.send('a')
  await turn()
  socket.send('b')
  socket.send('c')
  await turn()
  t.equal(stream.writeCalls + stream.writevCalls, 2, 'one write for each tick')
  t.equal(parseFrames(stream.written).frames.length, 3)
})

t.test('SocketWriter on its own: one write per tick, bufferedAmount, callbacks', async (t) => {
  const stream = new SwallowingDuplex()
  const writer = new SocketWriter(stream)
  const done: string[] = []
  writer.nextCallback = () => done.push('first')
  writer.write(Buffer.from('ab'), true)
  writer.write(Buffer.from('cd'), true)
  writer.nextCallback = () => done.push('third')
  writer.write(Buffer.from('e'), false)
  t.equal(writer.nextCallback !== undefined, true, 'a callback waits for the end of its frame')
  writer.write(Buffer.from('f'), true)
  t.equal(writer.nextCallback, undefined, 'and is taken by it')
  t.equal(writer.bufferedAmount, 6, 'queued bytes count as buffered')
  t.equal(done.length, 0)
  await turn()
  t.equal(stream.writevCalls + stream.writeCalls, 1)
  t.equal(stream.written.toString(), 'abcdef')
  t.equal(writer.bufferedAmount, 0)
  t.same(done, ['first', 'third'])
})

t.test('large chunks are passed through uncopied, between joined runs of small ones', async (t) => {
  const chunks: Buffer[] = []
  const stream = new SwallowingDuplex()
  const originalWrite = stream._write.bind(stream)
  const originalWritev = stream._writev!.bind(stream)
  stream._write = (chunk, encoding, callback) => { chunks.push(chunk); originalWrite(chunk, encoding, callback) }
  stream._writev = (entries, callback) => { for (const { chunk } of entries) chunks.push(chunk); originalWritev(entries, callback) }
  const writer = new SocketWriter(stream)
  const big = Buffer.alloc(5000, 1)
  writer.write(Buffer.from('h1'), true)
  writer.write(Buffer.from('h2'), false)
  writer.write(big, true)
  writer.write(Buffer.from('t'), true)
  await turn()
  t.equal(stream.writevCalls + stream.writeCalls, 1, 'still one call')
  t.equal(chunks.length, 3, 'a joined run, the big chunk, the tail')
  t.equal(chunks[0].toString(), 'h1h2')
  t.equal(chunks[1], big, 'the very same Buffer: not copied')
  t.equal(stream.written.toString('latin1'), 'h1h2' + big.toString('latin1') + 't')
})

t.test('flush() hands queued chunks over at once; a destroyed stream fails their callbacks', async (t) => {
  const stream = new SwallowingDuplex()
  const writer = new SocketWriter(stream)
  writer.write(Buffer.from('now'), true)
  writer.flush()
  t.equal(stream.writevCalls + stream.writeCalls, 1, 'written synchronously by flush()')
  stream.destroy()
  let error: Error | null | undefined
  writer.nextCallback = (e) => { error = e }
  writer.write(Buffer.from('late'), true)
  await turn()
  t.ok(error instanceof Error)
})

t.test('reserve/commit: small frames written in place share one chunk, in order with write() chunks', async (t) => {
  const chunks: Buffer[] = []
  const stream = new SwallowingDuplex()
  const originalWritev = stream._writev!.bind(stream)
  const originalWrite = stream._write.bind(stream)
  stream._write = (chunk, encoding, callback) => { chunks.push(chunk); originalWrite(chunk, encoding, callback) }
  stream._writev = (entries, callback) => { for (const { chunk } of entries) chunks.push(chunk); originalWritev(entries, callback) }
  const writer = new SocketWriter(stream)
  const put = (text: string): void => {
    const target = writer.reserve(text.length)
    target.write(text, writer.reservedAt, 'latin1')
    writer.commit(text.length)
  }
  const done: string[] = []
  put('aa')
  writer.nextCallback = () => done.push('bb')
  put('bb')
  t.equal(writer.bufferedAmount, 4, 'reserved frames count as buffered')
  const big = Buffer.alloc(3000, 0x7a)
  writer.write(big, true)
  put('cc')
  await turn()
  t.equal(stream.written.toString('latin1'), 'aabb' + big.toString('latin1') + 'cc', 'bytes in the order written')
  t.equal(chunks.length, 3, 'the frames before the big chunk are one chunk, the big one itself, then the rest')
  t.equal(chunks[1], big, 'the big chunk is not copied')
  t.same(done, ['bb'], 'a callback belongs to its frame')
  t.equal(writer.bufferedAmount, 0)
})

t.test('reserve: a frame larger than the batch gets room of its own; the batch is dropped at each flush', async (t) => {
  const stream = new SwallowingDuplex()
  const writer = new SocketWriter(stream)
  const first = writer.reserve(10)
  const larger = writer.reserve(100_000)
  t.not(larger, first, 'more room than the batch had: a new buffer')
  t.ok(larger.length >= 100_000)
  larger.fill(0x41, writer.reservedAt, writer.reservedAt + 100_000)
  writer.commit(100_000)
  writer.flush()
  t.equal(stream.written.length, 100_000)
  const next = writer.reserve(10)
  t.not(next, larger, 'a flushed batch is never written into again (the stream may still hold it)')
})
