// MessageDeflater: what we send decodes with a real zlib peer and with an independent decoder,
// for every window size, with and without context takeover; the negotiated window is honoured
// (measured distances, including the 256-byte window of windowBits 8); sync and thread-pool
// paths give identical bytes; results come in order; compress-once for publish.
import t from 'tap'
import fc from 'fast-check'
import {
  DEFLATE_MIN_DICTIONARY,
  MessageDeflater,
  PENDING,
  SharedMessageDeflate,
  ZlibConcurrencyLimiter,
  messageDeflaterOptions,
  resolvePerMessageDeflate,
  stripDeflateTail,
  zlibDeflateWindowBits
} from '../../src/compression/index.js'
import { WebSocketStateError } from '../../src/protocol/index.js'
import { randomBytes, seededRandom } from '../helpers/seeded-random.js'
import { decodeDeflate } from '../helpers/deflate-decoder.js'
import { DEFLATE_DEFAULTS, TAIL, deflateAll, deflater, inflateAll, inflater, jsonMessage, peerInflate } from '../helpers/deflate.js'

const SYNC = { syncMaxInputBytes: Infinity }
const ASYNC = { syncMaxInputBytes: -1 }

function conversation (seed: number): Buffer[] {
  const random = seededRandom(seed)
  const first = jsonMessage(3000, seed)
  return [
    first,
    Buffer.from(first),
    jsonMessage(200, seed + 1),
    Buffer.alloc(0),
    randomBytes(random, 700),
    jsonMessage(40_000, seed + 2),
    randomBytes(random, 20_000),
    Buffer.from(first.subarray(100, 2000)),
    jsonMessage(300, seed + 3)
  ]
}

t.test('what we send decodes with a real zlib peer and our inflater, and keeps within the window', async (t) => {
  for (const windowBits of [8, 9, 10, 11, 12, 13, 14, 15]) {
    for (const contextTakeover of [true, false]) {
      for (const [name, path] of [['sync', SYNC], ['thread pool', ASYNC], ['default thresholds', {}]] as const) {
        const messages = conversation(windowBits * 2 + (contextTakeover ? 1 : 0))
        const ours = deflater({ windowBits, contextTakeover, ...path })
        const { payloads } = await deflateAll(ours, messages)
        const label = `window ${windowBits}, takeover ${contextTakeover}, ${name}`
        // A peer with a long-lived zlib stream and exactly the negotiated window.
        const peer = await peerInflate(payloads, windowBits, contextTakeover)
        t.ok(peer.every((m, i) => m.equals(messages[i])), `${label}: zlib peer`)
        const back = await inflateAll(inflater({ windowBits, contextTakeover }), payloads)
        t.ok(back.every((m, i) => m.equals(messages[i])), `${label}: our inflater`)
        // The independent decoder measures every distance (RFC 7692 §7.1.2: the window).
        let history = Buffer.alloc(0)
        let maxDistance = 0
        for (let i = 0; i < payloads.length; i++) {
          const decoded = decodeDeflate(Buffer.concat([payloads[i], TAIL]), contextTakeover ? history : undefined)
          if (!decoded.output.equals(messages[i])) t.fail(`${label}: decoder disagrees on message ${i}`)
          maxDistance = Math.max(maxDistance, decoded.maxDistance)
          history = Buffer.concat([history, messages[i]]).subarray(-(2 ** windowBits))
        }
        t.ok(maxDistance <= 2 ** windowBits, `${label}: largest distance ${maxDistance} <= ${2 ** windowBits}`)
        if (windowBits === 8) t.ok(maxDistance <= 250, 'window 8: zlib at 9 bits never reaches past 250 bytes')
        t.equal(ours.retainedBytes <= (contextTakeover ? 2 ** windowBits : 0), true)
      }
    }
  }
  t.equal(stripDeflateTail(Buffer.from([1, 2, 0, 0, 0xff, 0xff])).toString(), '\u0001\u0002')
  for (const bad of [[0, 0, 0xff], [0, 0, 0xff, 0xfe], [1, 0, 0xff, 0xff], [0, 1, 0xff, 0xff], [0, 0, 0xfe, 0xff]]) {
    t.type(stripDeflateTail(Buffer.from(bad)), Error, `no sync-flush tail: ${Buffer.from(bad).toString('hex')}`)
  }
  t.equal(zlibDeflateWindowBits(8), 9)
  t.equal(zlibDeflateWindowBits(12), 12)
})

t.test('window 8 under pressure: text built to tempt matches 251..256 bytes back', async (t) => {
  // Blocks of 253 distinct-ish bytes repeated: the best match is always 253 back, which a
  // 9-bit zlib must not use (MAX_DIST 250) and a 256-byte window would allow.
  const random = seededRandom(8)
  const block = randomBytes(random, 253)
  const message = Buffer.concat(Array.from({ length: 40 }, () => block))
  const { payloads } = await deflateAll(deflater({ windowBits: 8, contextTakeover: true }), [message, message])
  let history = Buffer.alloc(0)
  for (const [i, payload] of payloads.entries()) {
    const decoded = decodeDeflate(Buffer.concat([payload, TAIL]), history)
    t.ok(decoded.output.equals(message), `message ${i} decodes`)
    t.ok(decoded.maxDistance <= 256, `message ${i}: largest distance ${decoded.maxDistance}`)
    history = Buffer.concat([history, message]).subarray(-256)
  }
  const peer = await peerInflate(payloads, 8, true)
  t.ok(peer.every((m) => m.equals(message)), 'a zlib peer with an 8-bit window decodes it')
  // Control: with a 10-bit window the same text is matched 253 bytes back, so the check above
  // would catch a compressor that overstepped 256.
  const control = await deflateAll(deflater({ windowBits: 10, contextTakeover: false }), [message])
  t.equal(decodeDeflate(Buffer.concat([control.payloads[0], TAIL])).maxDistance, 253, 'control: window 10 uses distance 253')
})

t.test('property: sync and thread-pool paths give identical bytes (seeded)', async (t) => {
  const seed = 70_692
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ size: fc.integer({ min: 0, max: 70_000 }), seed: fc.integer(), kind: fc.integer({ min: 0, max: 2 }) }), { minLength: 1, maxLength: 6 }),
    fc.integer({ min: 8, max: 15 }),
    fc.boolean(),
    async (specs, windowBits, contextTakeover) => {
      const messages = specs.map(({ size, seed: s, kind }) => kind === 0 ? jsonMessage(size, s) : kind === 1 ? randomBytes(seededRandom(s), size) : Buffer.alloc(size, s & 0xff))
      const sync = await deflateAll(deflater({ windowBits, contextTakeover, ...SYNC }), messages)
      const async = await deflateAll(deflater({ windowBits, contextTakeover, ...ASYNC }), messages)
      return sync.payloads.every((p, i) => p.equals(async.payloads[i]))
    }
  ), { seed, numRuns: 60 })
  t.pass(`60 random conversations, identical bytes on both paths (seed ${seed})`)
})

t.test('results come back in order; small messages queue behind a pending one', async (t) => {
  const ours = deflater({ syncMaxInputBytes: 1000 })
  const big = jsonMessage(50_000, 1)
  const small = Buffer.from('small message, small message')
  const order: string[] = []
  t.equal(ours.deflate(big, () => { order.push('big') }), PENDING)
  t.equal(ours.pending, 1)
  t.equal(ours.deflate(small, () => {
    order.push('small')
    // A message sent from a callback queues behind the rest.
    const late = ours.deflate(small, () => { order.push('late') })
    t.equal(late, PENDING, 'sent from a callback while busy: PENDING')
  }), PENDING, 'a small message behind a pending one is PENDING too')
  t.equal(ours.deflate(big, () => { order.push('big 2') }), PENDING)
  t.equal(ours.deflate(small, () => { order.push('small 2') }), PENDING)
  t.equal(ours.pending, 4)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(order, ['big', 'small', 'big 2', 'small 2', 'late'])
  t.equal(ours.pending, 0)
  const now = ours.deflate(small, () => t.fail('sync result must not call back'))
  t.ok(Buffer.isBuffer(now), 'idle again: small messages are synchronous')

  // The queued messages decode in that order with context takeover.
  const again = deflater({ syncMaxInputBytes: 1000 })
  const { payloads, pendingCount } = await deflateAll(again, [big, small, big, small])
  t.equal(pendingCount, 4)
  const back = await inflateAll(inflater(), payloads)
  t.ok(back[0].equals(big) && back[1].equals(small) && back[2].equals(big) && back[3].equals(small))
})

t.test('close drops queued work; deflate after close throws', async (t) => {
  const ours = deflater(ASYNC)
  let calls = 0
  t.equal(ours.deflate(jsonMessage(5000, 1), () => { calls++ }), PENDING)
  t.equal(ours.deflate(jsonMessage(5000, 2), () => { calls++ }), PENDING)
  ours.close()
  t.equal(ours.pending, 0)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(calls, 0)
  t.throws(() => ours.deflate(Buffer.from('x'), () => {}), WebSocketStateError)
  t.equal(ours.retainedBytes, 0)

  // Closing from inside a callback stops the queue there.
  const closing = deflater(ASYNC)
  const seen: number[] = []
  closing.deflate(jsonMessage(3000, 1), () => { seen.push(1); closing.close() })
  closing.deflate(jsonMessage(3000, 2), () => { seen.push(2) })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(seen, [1])

  // Queued behind the limiter, then closed: the slot is released without work.
  const limiter = new ZlibConcurrencyLimiter(1)
  const first = deflater({ ...ASYNC, limiter })
  const second = deflater({ ...ASYNC, limiter })
  let firstDone = false
  first.deflate(jsonMessage(3000, 1), () => { firstDone = true })
  second.deflate(jsonMessage(3000, 2), () => t.fail('closed deflater called back'))
  t.equal(limiter.queued, 1)
  second.close()
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.ok(firstDone)
  t.equal(limiter.active + limiter.queued, 0)
})

t.test('threshold, options from the resolved perMessageDeflate, and dictionary size', async (t) => {
  const resolved = resolvePerMessageDeflate({ threshold: 100, zlibDeflateOptions: { level: 1 } })
  if (resolved === null) throw new Error('unreachable')
  const ours = new MessageDeflater(messageDeflaterOptions(resolved, 12, false, new ZlibConcurrencyLimiter(1)))
  t.equal(ours.shouldCompress(99), false)
  t.equal(ours.shouldCompress(100), true)
  t.equal(ours.threshold, 100)
  t.equal(ours.windowBits, 12)
  t.equal(ours.sharingKey, 'w12 l1 m8 s0')
  t.equal(new MessageDeflater(messageDeflaterOptions(resolved, 12, true, new ZlibConcurrencyLimiter(1))).sharingKey, null)
  t.equal(DEFLATE_MIN_DICTIONARY, 4096)
  // A small message refers back at most max(4 KiB, 4 x its size): here a repeat from 20 KiB
  // back is not used, a repeat from 3 KiB back is.
  const random = seededRandom(3)
  const target = randomBytes(random, 500)
  const far = [target, randomBytes(random, 20_000), target]
  const near = [target, randomBytes(random, 3_000), target]
  const farPayloads = (await deflateAll(deflater(), far)).payloads
  const nearPayloads = (await deflateAll(deflater(), near)).payloads
  t.ok(farPayloads[2].length > 450, `20 KiB back: not referenced (${farPayloads[2].length} bytes)`)
  t.ok(nearPayloads[2].length < 50, `3 KiB back: referenced (${nearPayloads[2].length} bytes)`)
})

t.test('SharedMessageDeflate: one compression per settings for many sockets, in order with each socket', async (t) => {
  for (const [name, path] of [['sync', SYNC], ['thread pool', ASYNC]] as const) {
    const message = jsonMessage(name === 'sync' ? 2000 : 20_000, 5)
    const shared = new SharedMessageDeflate(message)
    const sockets = [
      deflater({ contextTakeover: false, ...path }),
      deflater({ contextTakeover: false, ...path }),
      deflater({ contextTakeover: false, ...path }),
      deflater({ contextTakeover: false, windowBits: 10, ...path })
    ]
    const results = await Promise.all(sockets.map(async (socket) => await new Promise<Buffer>((resolve, reject) => {
      const outcome = socket.deflateShared(shared, (late) => { if (late instanceof Error) reject(late); else resolve(late) })
      if (outcome === PENDING) return
      if (outcome instanceof Error) reject(outcome)
      else resolve(outcome)
    })))
    t.equal(shared.compressions, 2, `${name}: two settings, two compressions`)
    t.equal(results[0], results[1], `${name}: the same buffer for sockets with the same settings`)
    t.equal(results[0], results[2])
    t.not(results[3], results[0])
    for (const [i, payload] of results.entries()) {
      const windowBits = i === 3 ? 10 : 15
      const [back] = await peerInflate([payload], windowBits, false)
      t.ok(back.equals(message), `${name}: socket ${i} decodes`)
    }
    // Compressed once: identical to what a socket would produce on its own.
    const alone = await deflateAll(deflater({ contextTakeover: false }), [message])
    t.ok(alone.payloads[0].equals(results[0]))
  }
  // Used directly, a small message is compressed at once, without a callback.
  const direct = new SharedMessageDeflate(Buffer.from('Hello'))
  const directResult = direct.deflate(deflater({ contextTakeover: false }), () => t.fail('no callback for a ready result'))
  t.equal(Buffer.isBuffer(directResult) ? directResult.toString('hex') : String(directResult), 'f248cdc9c90700')
  const takeover = deflater()
  t.throws(() => takeover.deflateShared(new SharedMessageDeflate(Buffer.from('x')), () => {}), TypeError)
  t.throws(() => new SharedMessageDeflate(Buffer.from('x')).deflate(takeover, () => {}), TypeError)

  // Queued behind the socket's own pending message, and delivered after it.
  const socket = deflater({ contextTakeover: false, syncMaxInputBytes: 1000 })
  const order: string[] = []
  socket.deflate(jsonMessage(30_000, 1), () => order.push('own'))
  const shared = new SharedMessageDeflate(Buffer.from('published'))
  t.equal(socket.deflateShared(shared, () => order.push('published')), PENDING)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(order, ['own', 'published'])
})

t.test('sharing key uses the resolved defaults', async (t) => {
  const ours = deflater({ contextTakeover: false, zlib: DEFLATE_DEFAULTS })
  t.equal(ours.sharingKey, 'w15 l-1 m8 s0')
})
