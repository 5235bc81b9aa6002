// permessage-deflate micro-benchmark: our one-shot codecs on the main thread (sync) and in the
// thread pool (async), against a long-lived zlib stream driven asynchronously (what `ws` does),
// for JSON messages of 1 KiB to 1 MiB, with context takeover.
// `npx tsc -p tsconfig.build.json && node bench/micro/deflate.js` (add --json for JSON lines).
//
// Columns: messages/s for one connection sending one message at a time; "main µs/msg" is the
// event loop's busy time per message (performance.eventLoopUtilization), i.e. what the message
// costs every other connection of the process; "x4 msg/s" has four connections at once.
import { performance } from 'node:perf_hooks'
import zlib from 'node:zlib'
import { MessageDeflater, MessageInflater, PENDING, SETTINGS, json, limiter } from './deflate-fixtures.js'

const JSON_OUT = process.argv.includes('--json')
const TARGET_MS = Number(process.env.BENCH_MS ?? 400)
const SIZES = [1024, 4096, 16384, 65536, 1024 * 1024]
/** Runs `step(done)` back to back on `lanes` lanes for TARGET_MS; returns msg/s and main µs/msg. */
async function run (lanes, step) {
  const deadline = performance.now() + TARGET_MS
  let ops = 0
  const elu0 = performance.eventLoopUtilization()
  const start = performance.now()
  await Promise.all(Array.from({ length: lanes }, (_, lane) => new Promise((resolve) => {
    const next = () => {
      if (performance.now() >= deadline) { resolve(); return }
      ops++
      step(lane, next)
    }
    next()
  })))
  const elapsed = performance.now() - start
  const elu = performance.eventLoopUtilization(elu0)
  return { perSecond: ops / elapsed * 1000, mainMicros: elu.active * 1000 / ops }
}

/** Wraps a sync-or-PENDING call into the step shape; sync results continue on setImmediate
 * every 64 ops so timers and I/O still run. */
function stepOf (call) {
  let n = 0
  return (lane, done) => {
    const result = call(lane, done)
    if (result !== PENDING) {
      if (++n % 64 === 0) setImmediate(done)
      else done()
    }
  }
}

// A long-lived raw zlib stream per lane, write + flush per message, as ws does.
function streamStep (factory, inputs) {
  const streams = []
  let i = 0
  return (lane, done) => {
    const stream = streams[lane] ??= factory()
    stream.removeAllListeners('data')
    stream.on('data', () => {})
    stream.write(inputs(i++))
    stream.flush(zlib.constants.Z_SYNC_FLUSH, done)
  }
}

const rows = []
function report (name, size, result) {
  rows.push({ name, size, ...result })
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ name, size, msgs_per_s: Math.round(result.perSecond), main_us_per_msg: +result.mainMicros.toFixed(1) }) + '\n')
  } else {
    process.stdout.write(`  ${name.padEnd(44)} ${String(size).padStart(8)} B ${Math.round(result.perSecond).toString().padStart(8)} msg/s ${result.mainMicros.toFixed(1).padStart(9)} main µs/msg\n`)
  }
}

for (const size of SIZES) {
  const messages = [json(size, 1), json(size, 2), json(size, 3), json(size, 4)]
  if (!JSON_OUT) process.stdout.write(`\n${size} B of JSON (compresses to ${zlib.deflateRawSync(messages[0]).length} B)\n`)

  // Deflate: one-shot with the history as dictionary, sync and async; ws-style stream.
  for (const [label, syncMax, lanes] of [['deflate sync', Infinity, 1], ['deflate async', -1, 1], ['deflate async x4', -1, 4]]) {
    const deflaters = Array.from({ length: lanes }, () => new MessageDeflater({ windowBits: 15, contextTakeover: true, threshold: 0, zlib: SETTINGS, limiter, syncMaxInputBytes: syncMax }))
    let i = 0
    report(label, size, await run(lanes, stepOf((lane, done) => deflaters[lane].deflate(messages[i++ & 3], done))))
  }
  report('deflate ws-style stream async', size, await run(1, streamStep(() => zlib.createDeflateRaw(), (i) => messages[i & 3])))

  // Inflate: messages as a context-takeover peer sends them.
  const peer = zlib.createDeflateRaw()
  const payloads = []
  for (let k = 0; k < 32; k++) {
    payloads.push(await new Promise((resolve) => {
      const chunks = []
      const onData = (c) => chunks.push(c)
      peer.on('data', onData)
      peer.write(messages[k & 3])
      peer.flush(zlib.constants.Z_SYNC_FLUSH, () => { peer.off('data', onData); resolve(Buffer.concat(chunks).subarray(0, -4)) })
    }))
  }
  for (const [label, syncMax, lanes] of [['inflate sync', Infinity, 1], ['inflate async', -1, 1], ['inflate async x4', -1, 4]]) {
    const make = () => new MessageInflater({ windowBits: 15, contextTakeover: true, maxMessageSize: 64 << 20, limiter, syncMaxInputBytes: syncMax, syncMaxOutputBytes: Infinity })
    const inflaters = Array.from({ length: lanes }, make)
    const positions = new Array(lanes).fill(0)
    report(label, size, await run(lanes, stepOf((lane, done) => {
      // The sequence must be replayed from the start with a fresh history each time round.
      if (positions[lane] === payloads.length) { inflaters[lane] = make(); positions[lane] = 0 }
      return inflaters[lane].inflate(payloads[positions[lane]++], true, done)
    })))
  }
  let k = 0
  report('inflate ws-style stream async', size, await run(1, streamStep(() => zlib.createInflateRaw(), () => {
    const payload = Buffer.concat([payloads[k % payloads.length], Buffer.from([0, 0, 0xff, 0xff])])
    k++
    return payload
  })))
  peer.close()
}

if (!JSON_OUT) {
  // Crossover: the first size where a sync call costs the main thread more than the whole
  // async round trip takes (so going async adds no latency and frees the loop).
  process.stdout.write('\ncrossover (sync µs/msg vs async latency µs/msg):\n')
  for (const op of ['deflate', 'inflate']) {
    for (const size of SIZES) {
      const sync = rows.find((r) => r.name === `${op} sync` && r.size === size)
      const async = rows.find((r) => r.name === `${op} async` && r.size === size)
      process.stdout.write(`  ${op} ${String(size).padStart(8)} B: sync ${(1e6 / sync.perSecond).toFixed(1)} µs, async ${(1e6 / async.perSecond).toFixed(1)} µs (main thread ${async.mainMicros.toFixed(1)} µs)\n`)
    }
  }
}
