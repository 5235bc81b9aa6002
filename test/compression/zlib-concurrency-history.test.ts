// ZlibConcurrencyLimiter (bound, FIFO, release once) and HistoryWindow (the last N bytes).
import t from 'tap'
import { HistoryWindow, ZlibConcurrencyLimiter } from '../../src/compression/index.js'
import { randomBytes, randomInt, seededRandom } from '../helpers/seeded-random.js'

t.test('limiter: validates its limit', async (t) => {
  for (const bad of [0, -1, 1.5, NaN]) t.throws(() => new ZlibConcurrencyLimiter(bad), RangeError)
  t.equal(new ZlibConcurrencyLimiter(Infinity).limit, Infinity)
})

t.test('limiter: never more than the limit at once, first come first served', async (t) => {
  const limiter = new ZlibConcurrencyLimiter(3)
  const started: number[] = []
  const releases: Array<() => void> = []
  let peak = 0
  for (let i = 0; i < 10; i++) {
    limiter.run((release) => {
      started.push(i)
      releases.push(release)
      peak = Math.max(peak, limiter.active)
    })
  }
  t.same(started, [0, 1, 2])
  t.equal(limiter.active, 3)
  t.equal(limiter.queued, 7)
  // Release out of order; the next job starts on a microtask, not inside release().
  releases[1]()
  t.same(started, [0, 1, 2], 'not started synchronously from release()')
  await Promise.resolve()
  t.same(started, [0, 1, 2, 3])
  releases[1]() // a second release of the same job is ignored
  await Promise.resolve()
  t.equal(limiter.active, 3)
  t.same(started, [0, 1, 2, 3])
  while (started.length < 10 || limiter.active > 0) {
    const pending = releases.splice(0)
    for (const release of pending) release()
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.same(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  t.equal(peak, 3)
  t.equal(limiter.active, 0)
  t.equal(limiter.queued, 0)
})

t.test('limiter: a job released synchronously frees its slot at once', async (t) => {
  const limiter = new ZlibConcurrencyLimiter(1)
  let ran = 0
  for (let i = 0; i < 5; i++) limiter.run((release) => { ran++; release() })
  t.equal(ran, 5)
  t.equal(limiter.active, 0)
})

/** The reference: the last `capacity` bytes of everything appended. */
function lastBytes (all: Buffer, capacity: number): Buffer {
  return all.subarray(Math.max(0, all.length - capacity))
}

t.test('history: keeps exactly the last capacity bytes, in every append pattern', async (t) => {
  const random = seededRandom(1951)
  for (const capacity of [256, 512, 4096, 32768]) {
    for (let round = 0; round < 20; round++) {
      const history = new HistoryWindow(capacity)
      let all = Buffer.alloc(0)
      t.equal(history.view(), undefined)
      for (let step = 0; step < 30; step++) {
        const kind = randomInt(random, 0, 9)
        const size = kind === 0 ? 0 : kind < 6 ? randomInt(random, 1, 64) : kind < 9 ? randomInt(random, 1, capacity) : randomInt(random, capacity, capacity * 3)
        const data = randomBytes(random, size)
        history.append(data)
        all = Buffer.concat([all, data])
        const expected = lastBytes(all, capacity)
        if (!(history.view() ?? Buffer.alloc(0)).equals(expected) || history.length !== expected.length) {
          t.fail(`capacity ${capacity} round ${round} step ${step}: history differs`)
          return
        }
        const partial = randomInt(random, 1, capacity)
        if (!(history.view(partial) ?? Buffer.alloc(0)).equals(lastBytes(expected, partial))) {
          t.fail(`view(${partial}) differs`)
          return
        }
        if (history.retainedBytes > capacity) t.fail('buffer larger than the capacity')
      }
    }
  }
  t.pass('80 random append sequences match the reference')
})

t.test('history: a small first buffer, then the whole window; copies its input; clears', async (t) => {
  const history = new HistoryWindow(32768)
  t.equal(history.retainedBytes, 0)
  const data = Buffer.from('x'.repeat(100))
  history.append(data)
  t.equal(history.retainedBytes, 4096, 'a small message keeps a 4 KiB buffer')
  data.fill(0x79)
  t.equal(history.view()?.toString(), 'x'.repeat(100), 'the input was copied')
  history.append(Buffer.alloc(3000))
  t.equal(history.retainedBytes, 4096, 'still fits')
  history.append(Buffer.alloc(1000))
  t.equal(history.retainedBytes, 32768, 'then the whole window')
  t.equal(history.view(4100)?.subarray(0, 100).toString(), 'x'.repeat(100), 'content kept across the growth')
  const big = new HistoryWindow(32768)
  big.append(Buffer.alloc(10_000))
  t.equal(big.retainedBytes, 10_000, 'a first message over 4 KiB gets a buffer of its size')
  t.equal(new HistoryWindow(256).retainedBytes, 0)
  const tiny = new HistoryWindow(256)
  tiny.append(Buffer.alloc(10))
  t.equal(tiny.retainedBytes, 256, 'never more than the capacity')
  history.append(Buffer.alloc(40000))
  t.equal(history.retainedBytes, 32768)
  t.equal(history.length, 32768)
  history.clear()
  t.equal(history.retainedBytes, 0)
  t.equal(history.length, 0)
  t.equal(history.view(), undefined)
})
