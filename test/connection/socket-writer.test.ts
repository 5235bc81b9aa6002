/**
 * Write batching: everything written in one tick leaves in one writev (DESIGN.md: the write
 * system call, not the codec, is the cost of small messages).
 */
import t from 'tap'
import { SocketWriter, WebSocket } from '../../src/connection/index.js'
import { turn, until, OP, SwallowingDuplex, masked, parseFrames } from '../helpers/wait.js'

t.test('several sends in one tick produce one writev on the transport', async (t) => {
  const stream = new SwallowingDuplex()
  const socket = new WebSocket(stream, { role: 'server' })
  t.teardown(() => socket.terminate())
  socket.send('one')
  socket.send(Buffer.from([2]))
  socket.ping('three')
  socket.send('four'.repeat(100))
  t.equal(stream.writeCalls + stream.writevCalls, 0, 'nothing written synchronously')
  await turn()
  t.equal(stream.writevCalls, 1, 'one writev')
  t.equal(stream.writeCalls, 0, 'no single writes')
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
  const socket = new WebSocket(stream, { role: 'server' })
  t.teardown(() => socket.terminate())
  const pings: string[] = []
  socket.on('ping', (data) => pings.push(data.toString()))
  stream.push(Buffer.concat([masked(OP.PING, 'a'), masked(OP.PING, 'b'), masked(OP.PING, 'c')]))
  await until(() => pings.length === 3)
  await turn()
  t.equal(stream.writevCalls + stream.writeCalls, 1, 'three pongs, one write')
  t.same(parseFrames(stream.written).frames.map((f) => [f.opcode, f.payload.toString()]), [
    [OP.PONG, 'a'], [OP.PONG, 'b'], [OP.PONG, 'c']
  ])
})

t.test('writes in different ticks are separate writes (the cork is released every tick)', async (t) => {
  const stream = new SwallowingDuplex()
  const socket = new WebSocket(stream, { role: 'server' })
  t.teardown(() => socket.terminate())
  socket.send('a')
  await turn()
  socket.send('b')
  socket.send('c')
  await turn()
  t.equal(stream.writeCalls, 1, 'the lone small frame of the first tick: one chunk, one write...')
  t.equal(stream.writevCalls, 1, '...and the two frames of the second tick')
  t.equal(parseFrames(stream.written).frames.length, 3)
})

t.test('SocketWriter on its own: one writev per tick, bufferedAmount, callbacks', async (t) => {
  const stream = new SwallowingDuplex()
  const writer = new SocketWriter(stream)
  const done: string[] = []
  t.equal(writer.write(Buffer.from('ab'), () => done.push('first')), true)
  t.equal(writer.write(Buffer.from('cd')), true)
  t.equal(writer.write(Buffer.from('ef'), () => done.push('third')), true)
  t.equal(writer.bufferedAmount, 6, 'corked bytes count as buffered')
  await turn()
  t.equal(stream.writevCalls, 1)
  t.equal(stream.writeCalls, 0)
  t.equal(stream.written.toString(), 'abcdef')
  t.equal(writer.bufferedAmount, 0)
  t.same(done, ['first', 'third'])
})
