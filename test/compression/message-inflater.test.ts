// MessageInflater: interop with a real zlib peer for every window size, with and without
// context takeover, on both paths; decompressed-size limit (zip bomb, measured), corrupt data,
// UTF-8 validated while inflating, the sync/PENDING contract, and the concurrency limit.
import zlib from 'node:zlib'
import t from 'tap'
import { MessageInflater, PENDING, ZlibConcurrencyLimiter, maxCompressedPayloadSize } from '../../src/compression/index.js'
import { WebSocketProtocolError, WebSocketStateError } from '../../src/protocol/index.js'
import { randomBytes, seededRandom } from '../helpers/seeded-random.js'
import { inflateAll, inflateOnce, inflater, jsonMessage, peerDeflate } from '../helpers/deflate.js'

const SYNC = { syncMaxInputBytes: 1 << 30, syncMaxOutputBytes: 1 << 30 }
const ASYNC = { syncMaxInputBytes: -1 }
const PATHS = [['sync', SYNC], ['thread pool', ASYNC], ['default thresholds', {}]] as const

/** Messages with cross-references: repeats of earlier ones, fresh JSON, random bytes, empty. */
function conversation (seed: number): Buffer[] {
  const random = seededRandom(seed)
  const first = jsonMessage(3000, seed)
  return [
    first,
    Buffer.from(first), // refers entirely back into the previous message
    jsonMessage(200, seed + 1),
    Buffer.alloc(0),
    randomBytes(random, 700),
    jsonMessage(40_000, seed + 2), // larger than the default sync threshold once compressed? not JSON: stays small
    randomBytes(random, 20_000), // incompressible: over 16 KiB compressed, so the thread pool by default
    Buffer.from(first.subarray(100, 2000))
  ]
}

t.test('inflates what a real zlib peer sends, every window size, with and without context takeover', async (t) => {
  for (const windowBits of [8, 9, 10, 11, 12, 13, 14, 15]) {
    for (const contextTakeover of [true, false]) {
      const messages = conversation(windowBits)
      const payloads = await peerDeflate(messages, windowBits, contextTakeover)
      for (const [name, path] of PATHS) {
        const ours = inflater({ windowBits, contextTakeover, ...path })
        const out = await inflateAll(ours, payloads)
        t.ok(out.every((message, i) => message.equals(messages[i])), `window ${windowBits}, takeover ${contextTakeover}, ${name}`)
        t.equal(ours.retainedBytes <= (contextTakeover ? 2 ** windowBits : 0), true, 'history within the window')
      }
    }
  }
})

t.test('maxCompressedPayloadSize bounds what any message within the limit compresses to', async (t) => {
  t.equal(maxCompressedPayloadSize(Infinity), Infinity)
  t.equal(maxCompressedPayloadSize(0), 13)
  const random = seededRandom(4096)
  for (const size of [0, 1, 100, 65535, 65536, 1 << 20]) {
    const data = randomBytes(random, size)
    for (const level of [0, 1, 6, 9]) {
      const compressed = zlib.deflateRawSync(data, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH }).length - 4
      if (compressed > maxCompressedPayloadSize(size)) t.fail(`${size} random bytes at level ${level} compress to ${compressed}`)
    }
  }
  t.pass('incompressible data at every level stays within the bound')
})

t.test('the result does not share memory with the input, and fragments may be given as a list', async (t) => {
  const message = jsonMessage(5000, 3)
  const [payload] = await peerDeflate([message], 15, true)
  for (const [name, path] of PATHS) {
    const input = Buffer.from(payload)
    const pieces = [input.subarray(0, 1), input.subarray(1, 100), input.subarray(100)]
    const { outcome } = await inflateOnce(inflater(path), pieces, true)
    t.ok(Buffer.isBuffer(outcome) && outcome.equals(message), name)
    input.fill(0)
    t.ok(Buffer.isBuffer(outcome) && outcome.equals(message), `${name}: unchanged when the input is overwritten`)
  }
})

t.test('maxMessageSize counts decompressed bytes, exactly, on both paths', async (t) => {
  const message = jsonMessage(10_000, 9)
  const [payload] = await peerDeflate([message], 15, false)
  for (const [name, path] of PATHS) {
    const ok = await inflateOnce(inflater({ ...path, maxMessageSize: 10_000 }), payload, true)
    t.ok(Buffer.isBuffer(ok.outcome) && ok.outcome.length === 10_000, `${name}: exactly at the limit`)
    const over = await inflateOnce(inflater({ ...path, maxMessageSize: 9_999 }), payload, true)
    t.match(over.outcome, { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009, message: 'Max payload size exceeded' }, `${name}: one byte over`)
    const zero = await inflateOnce(inflater({ ...path, maxMessageSize: 0 }), payload, true)
    t.match(zero.outcome, { closeCode: 1009 }, `${name}: limit 0`)
    const empty = await peerDeflate([Buffer.alloc(0)], 15, false)
    const none = await inflateOnce(inflater({ ...path, maxMessageSize: 0 }), empty[0], true)
    t.ok(Buffer.isBuffer(none.outcome) && none.outcome.length === 0, `${name}: an empty message fits limit 0`)
    const [one] = await peerDeflate([Buffer.from('x')], 15, false)
    const tiny = await inflateOnce(inflater({ ...path, maxMessageSize: 0 }), one, true)
    t.match(tiny.outcome, { closeCode: 1009 }, `${name}: a 1-byte message over limit 0`)
  }
  // No limit at all: the sync path still gives zlib a valid bound.
  const unlimited = await inflateOnce(inflater({ ...SYNC, syncMaxOutputBytes: Infinity, maxMessageSize: Infinity }), payload, true)
  t.ok(Buffer.isBuffer(unlimited.outcome) && unlimited.outcome.equals(message), 'maxMessageSize Infinity, sync cap Infinity')
  // The sync attempt stops at its own cap and the thread pool takes over (not a failure).
  const capped = await inflateOnce(inflater({ syncMaxOutputBytes: 1000, maxMessageSize: 20_000 }), payload, true)
  t.equal(capped.async, true, 'output over the sync cap moves to the thread pool')
  t.ok(Buffer.isBuffer(capped.outcome) && capped.outcome.equals(message))
})

/**
 * Wraps zlib.createInflateRaw (a configurable, read-only property) so a test can watch the
 * real streams the inflater creates. Returns the function that puts the original back.
 */
function watchInflateStreams (onCreate: (stream: zlib.InflateRaw) => void): () => void {
  const original = zlib.createInflateRaw
  Object.defineProperty(zlib, 'createInflateRaw', {
    configurable: true,
    writable: false,
    enumerable: true,
    value: (options?: zlib.ZlibOptions) => {
      const stream = original(options)
      onCreate(stream)
      return stream
    }
  })
  return () => Object.defineProperty(zlib, 'createInflateRaw', { configurable: true, writable: false, enumerable: true, value: original })
}

/** Counts what zlib produced in every inflate stream created while `run` is active. */
async function countingProduced<T> (run: () => Promise<T>): Promise<{ result: T, produced: number, streams: number }> {
  let produced = 0
  let streams = 0
  const restore = watchInflateStreams((stream) => {
    streams++
    stream.on('data', (chunk: Buffer) => { produced += chunk.length })
  })
  try {
    const result = await run()
    // Let a chunk that was in the pool when the job stopped arrive, so it is counted too.
    await new Promise((resolve) => setTimeout(resolve, 50))
    return { result, produced, streams }
  } finally {
    restore()
  }
}

t.test('zip bomb: 64 MiB of zeros in 64 KiB stops with 1009 after about maxMessageSize bytes', async (t) => {
  const bomb = zlib.deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4)
  t.comment(`bomb: ${bomb.length} bytes compressed, 64 MiB inflated`)
  const limit = 1024 * 1024
  global.gc?.()
  const before = process.memoryUsage()
  const started = process.hrtime.bigint()
  let peakExternal = 0
  const sampler = setInterval(() => { peakExternal = Math.max(peakExternal, process.memoryUsage().arrayBuffers) }, 1)
  const { result, produced, streams } = await countingProduced(() => inflateOnce(inflater({ maxMessageSize: limit }), bomb, false))
  clearInterval(sampler)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  t.match(result.outcome, { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009 })
  t.equal(result.async, true, 'a 64 KiB input goes to the thread pool')
  t.equal(streams, 1)
  const chunk = 16 * 1024
  t.ok(produced > limit && produced <= limit + 2 * chunk, `zlib produced ${produced} bytes (limit ${limit} + at most two 16 KiB chunks)`)
  const grown = peakExternal - before.arrayBuffers
  t.comment(`time ${ms.toFixed(1)} ms; external memory grew by at most ${(grown / 1024).toFixed(0)} KiB`)
  t.ok(grown < 8 * limit, 'memory stays within a few MiB, not 64 MiB')

  // A small bomb (16 KiB of input, 16 MiB inflated) starts on the sync path, which stops at
  // its output cap; the thread pool then stops at the limit.
  const small = zlib.deflateRawSync(Buffer.alloc(16 * 1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4)
  const second = await countingProduced(() => inflateOnce(inflater({ maxMessageSize: limit }), small, false))
  t.match(second.result.outcome, { closeCode: 1009 })
  t.ok(second.produced <= limit + 2 * chunk, `small bomb: thread pool produced ${second.produced} bytes`)
  // With a limit under the sync cap, the sync path itself refuses it.
  const third = await countingProduced(() => inflateOnce(inflater({ maxMessageSize: 64 * 1024 }), small, false))
  t.match(third.result.outcome, { closeCode: 1009 })
  t.equal(third.result.async, false, 'refused on the sync path')
  t.equal(third.streams, 0)
})

t.test('corrupt DEFLATE data fails with 1007 on both paths', async (t) => {
  const random = seededRandom(1007)
  const samples = [
    Buffer.from([0xff, 0xff, 0xff, 0xff]), // block type 3
    Buffer.from([0x00, 0x05, 0x00, 0x00, 0x00]), // stored block with LEN != ~NLEN
    Buffer.from([0xf2, 0x00, 0x11, 0x00, 0x00]) // distance 5 with no history (fresh inflater)
  ]
  for (const [name, path] of PATHS) {
    for (const sample of samples) {
      const { outcome } = await inflateOnce(inflater(path), sample, false)
      t.match(outcome, { code: 'WS_ERR_INVALID_COMPRESSED_DATA', closeCode: 1007, message: 'invalid compressed data' }, `${name}: ${sample.toString('hex')}`)
      t.ok(outcome instanceof WebSocketProtocolError)
    }
  }
  // Random garbage: a clean 1007 or some bytes, never a throw or a hang.
  let failures = 0
  for (let i = 0; i < 200; i++) {
    const garbage = randomBytes(random, 1 + (i % 64))
    const { outcome } = await inflateOnce(inflater({ maxMessageSize: 1 << 20, ...(i % 2 === 0 ? SYNC : ASYNC) }), garbage, false)
    if (outcome instanceof WebSocketProtocolError) {
      failures++
      if (outcome.closeCode !== 1007 && outcome.closeCode !== 1009) t.fail(`unexpected close code ${outcome.closeCode}`)
    }
  }
  t.ok(failures > 100, `${failures}/200 random inputs rejected, the rest decoded to something`)
})

t.test('invalid UTF-8 in compressed text fails with 1007, before the whole message is inflated', async (t) => {
  // 256 KiB of text, an invalid byte, then 32 MiB more: about 33 KiB compressed.
  const text = Buffer.concat([Buffer.alloc(256 * 1024, 0x61), Buffer.from([0xff]), Buffer.alloc(32 * 1024 * 1024, 0x62)])
  const payload = zlib.deflateRawSync(text, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4)
  const { result, produced } = await countingProduced(() => inflateOnce(inflater({ maxMessageSize: 64 * 1024 * 1024 }), payload, true))
  t.match(result.outcome, { code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 })
  t.ok(produced < 1024 * 1024, `stopped after ${produced} of ${text.length} bytes`)
  // The same bytes as binary are fine.
  const binary = await inflateOnce(inflater({ maxMessageSize: 64 * 1024 * 1024 }), payload, false)
  t.ok(Buffer.isBuffer(binary.outcome) && binary.outcome.length === text.length, 'as binary: accepted')

  const cases: Array<[string, Buffer]> = [
    ['a lone continuation byte', Buffer.from([0x61, 0x80])],
    ['an overlong encoding', Buffer.from([0xc0, 0xaf])],
    ['a surrogate', Buffer.from([0xed, 0xa0, 0x80])],
    ['a sequence cut at the end of the message', Buffer.from([0x61, 0xe2, 0x82])]
  ]
  for (const [name, bytes] of cases) {
    const long = Buffer.concat([Buffer.alloc(100_000, 0x41), bytes])
    const compressed = zlib.deflateRawSync(long, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4)
    for (const [pathName, path] of PATHS) {
      const { outcome } = await inflateOnce(inflater({ ...path, chunkSize: 1024 }), compressed, true)
      t.match(outcome, { code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 }, `${name}, ${pathName}`)
    }
  }
  // A multi-byte character split across output chunks is valid.
  const euro = Buffer.from('€'.repeat(50_000))
  const compressed = zlib.deflateRawSync(euro, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4)
  for (const chunkSize of [64, 1000, 1024]) {
    const { outcome } = await inflateOnce(inflater({ ...ASYNC, chunkSize }), compressed, true)
    t.ok(Buffer.isBuffer(outcome) && outcome.equals(euro), `chunks of ${chunkSize} split characters`)
  }
})

t.test('contract: PENDING then exactly one callback; busy and closed inflaters refuse work', async (t) => {
  const [payload] = await peerDeflate([jsonMessage(4000, 1)], 15, true)
  const ours = inflater(ASYNC)
  let calls = 0
  const result = ours.inflate(payload, true, () => { calls++ })
  t.equal(result, PENDING)
  t.equal(ours.busy, true)
  t.throws(() => ours.inflate(payload, true, () => {}), WebSocketStateError, 'a second message while one is pending')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(calls, 1)
  t.equal(ours.busy, false)

  // Closing while pending: the callback never comes, and the inflater is done.
  const closing = inflater(ASYNC)
  let closedCalls = 0
  t.equal(closing.inflate(payload, true, () => { closedCalls++ }), PENDING)
  closing.close()
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(closedCalls, 0, 'no callback after close()')
  t.throws(() => closing.inflate(payload, true, () => {}), WebSocketStateError)
  t.equal(closing.retainedBytes, 0)

  // Closed while still queued behind the limiter: the job releases its slot without running.
  const limiter = new ZlibConcurrencyLimiter(1)
  const first = inflater({ ...ASYNC, limiter })
  const second = inflater({ ...ASYNC, limiter })
  let firstDone = false
  t.equal(first.inflate(payload, true, () => { firstDone = true }), PENDING)
  t.equal(second.inflate(payload, true, () => { t.fail('closed inflater called back') }), PENDING)
  t.equal(limiter.queued, 1)
  second.close()
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(firstDone, true)
  t.equal(limiter.active, 0)
  t.equal(limiter.queued, 0)
})

t.test('concurrencyLimit: never more thread-pool inflates at once than the limit', async (t) => {
  const limiter = new ZlibConcurrencyLimiter(2)
  const messages = Array.from({ length: 12 }, (_, i) => jsonMessage(50_000, i))
  const payloads = await Promise.all(messages.map(async (m) => (await peerDeflate([m], 15, false))[0]))
  let peak = 0
  let peakAtCreate = 0
  const restore = watchInflateStreams(() => { peakAtCreate = Math.max(peakAtCreate, limiter.active) })
  const sampler = setInterval(() => { peak = Math.max(peak, limiter.active) }, 0)
  try {
    const outcomes = await Promise.all(payloads.map(async (payload) => await inflateOnce(new MessageInflater({
      windowBits: 15, contextTakeover: false, maxMessageSize: 1 << 20, limiter, ...ASYNC
    }), payload, true)))
    t.ok(outcomes.every(({ outcome }, i) => Buffer.isBuffer(outcome) && outcome.equals(messages[i])), '12 messages from 12 connections')
  } finally {
    clearInterval(sampler)
    restore()
  }
  t.ok(peak <= 2 && peakAtCreate <= 2 && peakAtCreate >= 1, `peak in flight ${Math.max(peak, peakAtCreate)} <= 2`)
  t.equal(limiter.active, 0)
})
