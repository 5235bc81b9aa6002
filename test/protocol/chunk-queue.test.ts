// ChunkQueue: views when a read lies in one chunk, copies only when it straddles chunks.
import t from 'tap'
import { ChunkQueue } from '../../src/protocol/index.js'
import { cutAt } from '../helpers/chunkings.js'

const DATA = Buffer.from('0123456789abcdefghij')

function queueOf (cuts: number[]): ChunkQueue {
  const queue = new ChunkQueue()
  for (const chunk of cutAt(DATA, cuts)) queue.push(chunk)
  return queue
}

const CUTTINGS = [[], [1], [5, 6, 7], [2, 4, 6, 8, 10, 12, 14, 16, 18], Array.from({ length: 19 }, (_, i) => i + 1)]

t.test('push counts bytes and ignores empty chunks', async (t) => {
  const queue = new ChunkQueue()
  t.equal(queue.length, 0)
  queue.push(Buffer.alloc(0))
  t.equal(queue.length, 0)
  queue.push(Buffer.from('ab'))
  queue.push(Buffer.alloc(0))
  queue.push(Buffer.from('c'))
  t.equal(queue.length, 3)
  t.equal(queue.take(3).toString(), 'abc')
})

t.test('byteAt reads across chunks without consuming', async (t) => {
  for (const cuts of CUTTINGS) {
    const queue = queueOf(cuts)
    const read = Array.from({ length: DATA.length }, (_, i) => queue.byteAt(i))
    t.same(Buffer.from(read), DATA, `cut at ${cuts.join(',')}`)
    t.equal(queue.length, DATA.length)
    queue.skip(3)
    t.equal(String.fromCharCode(queue.byteAt(0)), '3', 'relative to the read position')
    t.equal(String.fromCharCode(queue.byteAt(16)), 'j')
  }
})

t.test('skip consumes across chunks', async (t) => {
  for (const cuts of CUTTINGS) {
    for (const step of [1, 2, 3, 7]) {
      const queue = queueOf(cuts)
      let position = 0
      const mismatches: number[] = []
      while (queue.length > 0) {
        const count = Math.min(step, queue.length)
        if (queue.byteAt(0) !== DATA[position]) mismatches.push(position)
        queue.skip(count)
        position += count
      }
      t.same(mismatches, [], `cut at ${cuts.join(',')}, step ${step}`)
    }
  }
  const queue = queueOf([4])
  queue.skip(0)
  t.equal(queue.length, 20, 'skip(0) does nothing')
})

t.test('take returns exactly the bytes, a view within a chunk and a copy across', async (t) => {
  for (const cuts of CUTTINGS) {
    for (const step of [1, 3, 6, 20]) {
      const chunks = cutAt(DATA, cuts)
      const queue = new ChunkQueue()
      for (const chunk of chunks) queue.push(chunk)
      const pieces: Buffer[] = []
      while (queue.length > 0) pieces.push(queue.take(Math.min(step, queue.length)))
      t.same(Buffer.concat(pieces), DATA, `cut at ${cuts.join(',')}, step ${step}`)
    }
  }
  // A view: writing through it changes the pushed chunk.
  const chunk = Buffer.from('abcdef')
  const queue = new ChunkQueue()
  queue.push(chunk)
  const view = queue.take(3)
  view[0] = 0x41
  t.equal(chunk.toString(), 'Abcdef', 'take within one chunk is a view')
  const rest = queue.take(3)
  t.equal(rest.toString(), 'def')
  t.equal(queue.length, 0)

  // The whole remaining chunk is handed out as the chunk itself.
  const whole = Buffer.from('xyz')
  const q2 = new ChunkQueue()
  q2.push(whole)
  t.equal(q2.take(3), whole, 'the same Buffer object, no view created')

  // Across chunks: a fresh copy.
  const a = Buffer.from('ab')
  const b = Buffer.from('cd')
  const q3 = new ChunkQueue()
  q3.push(a)
  q3.push(b)
  const copy = q3.take(3)
  copy[0] = 0x5a
  t.equal(a.toString(), 'ab', 'a straddling take copies')
  t.equal(copy.toString(), 'Zbc')
  t.equal(q3.take(1).toString(), 'd')
})

t.test('take(0) is empty whether or not chunks are queued', async (t) => {
  const queue = new ChunkQueue()
  t.equal(queue.take(0).length, 0)
  queue.push(Buffer.from('abc'))
  t.equal(queue.take(0).length, 0)
  t.equal(queue.length, 3)
  queue.skip(3)
  t.equal(queue.take(0).length, 0)
})

t.test('takeUpTo stops at the end of the first chunk and never copies', async (t) => {
  const queue = queueOf([3, 10])
  t.equal(queue.takeUpTo(100).toString(), '012')
  t.equal(queue.takeUpTo(2).toString(), '34')
  t.equal(queue.takeUpTo(100).toString(), '56789')
  t.equal(queue.length, 10)
  t.equal(queue.takeUpTo(10).toString(), 'abcdefghij')
  t.equal(queue.takeUpTo(5).length, 0, 'empty queue: empty result')
  t.equal(queue.length, 0)
})

t.test('clear drops everything, including a partly consumed chunk', async (t) => {
  const queue = queueOf([5])
  queue.skip(2)
  queue.clear()
  t.equal(queue.length, 0)
  t.equal(queue.takeUpTo(4).length, 0)
  queue.push(Buffer.from('new'))
  t.equal(queue.byteAt(0), 0x6e, 'reads start at the new chunk')
  t.equal(queue.take(3).toString(), 'new')
})
