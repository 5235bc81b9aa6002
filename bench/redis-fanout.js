// Redis adapter benchmark: one publishing instance and N subscribing instances on one Redis,
// each instance an adapter with its own event loop (the publisher in the main thread, each
// subscriber in a worker thread), as separate app processes would be.
//
//   npm run build && node bench/redis-fanout.js                 # starts its own redis-server
//   node bench/redis-fanout.js --quick                          # smaller runs (about 15 s)
//   node bench/redis-fanout.js --subscribers 3 --json
//   node bench/redis-fanout.js --url redis://127.0.0.1:6379     # an existing Redis (use a quiet one)
//   node bench/redis-fanout.js --autopipeline                   # ioredis enableAutoPipelining on our connections
//
// Measures, at the adapter level (no WebSocket, no plugin: what the adapter adds to a publish):
// - throughput: messages/s and MB/s from publish() to deliver() at every subscriber, for
//   64 B text, 1 KiB and 16 KiB binary. The publisher never outruns Redis: when the adapter
//   starts holding messages (its socket buffer is over maxBufferedBytes), it waits for the
//   queue to drain, so nothing is dropped and every message is counted at every subscriber.
// - latency: publish() to deliver() p50 / p99 / max at a fixed rate (1 000 and 20 000 msg/s),
//   timed with process.hrtime (one monotonic clock for all threads).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { redisAdapter } from '../dist/adapters/redis/index.mjs'
import { startRedis } from './redis-server.js'

// Warnings go to stderr (the publisher outrunning Redis is expected in the throughput runs: it then waits).
const silent = { info () {}, warn (obj, msg) { console.error('warn:', msg) }, error (obj, msg) { console.error('error:', msg, obj) } }

// One subscribing instance (worker thread): counts what arrives, records latencies.
async function subscriberInstance ({ url, redisOptions }) {
  let expected = 0
  let received = 0
  let bytes = 0
  let latencies = null
  let topic = ''
  const adapter = redisAdapter({ url, redisOptions })
  await adapter.start({
    log: silent,
    deliver (deliveredTopic, data) {
      if (deliveredTopic !== topic) return
      if (latencies !== null) latencies.push(Number(process.hrtime.bigint() - data.readBigUInt64LE(0)))
      received++
      bytes += data.length
      if (received === expected) parentPort.postMessage({ type: 'done', at: process.hrtime.bigint(), received, bytes, latencies })
    }
  })
  parentPort.on('message', async (command) => {
    if (command.type === 'expect') {
      topic = command.topic
      expected = command.count
      received = 0
      bytes = 0
      latencies = command.latency ? [] : null
      adapter.subscribe(topic)
      parentPort.postMessage({ type: 'subscribed' })
    } else if (command.type === 'forget') {
      adapter.unsubscribe(command.topic)
    } else if (command.type === 'close') {
      await adapter.close()
      parentPort.postMessage({ type: 'closed', stats: adapter.stats })
    }
  })
  parentPort.postMessage({ type: 'ready' })
}

async function main () {
  const args = process.argv.slice(2)
  const flag = (name) => args.includes(`--${name}`)
  const value = (name, fallback) => {
    const at = args.indexOf(`--${name}`)
    return at === -1 ? fallback : args[at + 1]
  }
  const quick = flag('quick')
  const json = flag('json')
  const subscriberCount = Number(value('subscribers', 1))
  const redisOptions = flag('autopipeline') ? { enableAutoPipelining: true } : {}

  let redis
  let url = value('url', undefined)
  if (url === undefined) {
    redis = await startRedis()
    url = redis.url
  }
  try {
    const publisher = redisAdapter({ url, redisOptions })
    await publisher.start({ log: silent, deliver () {} })
    const workers = await Promise.all(Array.from({ length: subscriberCount }, () => startWorker({ url, redisOptions })))
    const results = []
    const scale = quick ? 0.25 : 1
    for (const [label, size, binary, count] of [
      ['64 B text', 64, false, 200_000],
      ['1 KiB binary', 1024, true, 100_000],
      ['16 KiB binary', 16 * 1024, true, 20_000]
    ]) {
      results.push(await throughput(publisher, workers, label, size, binary, Math.round(count * scale)))
    }
    for (const rate of [1000, 20_000]) {
      results.push(await latency(publisher, workers, `64 B binary at ${rate} msg/s`, rate, quick ? 1 : 3))
    }
    await publisher.close()
    const closed = await Promise.all(workers.map(async (worker) => await request(worker, { type: 'close' }, 'closed')))
    for (const worker of workers) await worker.terminate()
    const report = {
      redis: url,
      subscribers: subscriberCount,
      autopipeline: redisOptions.enableAutoPipelining === true,
      node: process.version,
      results,
      publisher: publisher.stats,
      subscriberDropped: closed.reduce((sum, reply) => sum + reply.stats.rejected, 0)
    }
    if (json) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n')
    } else {
      process.stdout.write(`Redis adapter, 1 publisher -> ${subscriberCount} subscriber instance(s), ${url}${report.autopipeline ? ', autopipelining' : ''}, Node ${process.version}\n`)
      for (const result of results) process.stdout.write(`  ${result.label.padEnd(24)} ${result.summary}\n`)
      process.stdout.write(`  publisher dropped ${publisher.stats.dropped}, out ${publisher.stats.messagesOut} messages\n`)
    }
  } finally {
    await redis?.stop()
  }
}

async function throughput (publisher, workers, label, size, binary, count) {
  const topic = `throughput-${size}-${binary}`
  await Promise.all(workers.map(async (worker) => await request(worker, { type: 'expect', topic, count, latency: false }, 'subscribed')))
  await settle()
  const payload = binary ? Buffer.alloc(size, 0xab) : Buffer.from('x'.repeat(size))
  const done = workers.map((worker) => waitFor(worker, 'done'))
  const started = process.hrtime.bigint()
  const droppedBefore = publisher.stats.dropped
  // Batches small enough that one batch always fits the adapter's queue (1 MiB by default)
  // when Redis falls behind in the middle of it.
  const perBatch = Math.max(1, Math.min(500, Math.floor(512 * 1024 / (size + 11))))
  let sent = 0
  while (sent < count) {
    const batch = Math.min(perBatch, count - sent)
    for (let i = 0; i < batch; i++) publisher.publish(topic, payload, binary)
    sent += batch
    // Never outrun Redis: wait while the adapter holds messages, so none are dropped.
    while (publisher.stats.queued > 0) await new Promise((resolve) => setTimeout(resolve, 1))
    await new Promise((resolve) => setImmediate(resolve))
  }
  const finished = await withDeadline(Promise.all(done), `${label}: every subscriber to receive ${count} messages (publisher dropped ${publisher.stats.dropped - droppedBefore})`)
  const last = finished.reduce((max, reply) => reply.at > max ? reply.at : max, 0n)
  const seconds = Number(last - started) / 1e9
  for (const worker of workers) worker.postMessage({ type: 'forget', topic })
  const rate = count / seconds
  return {
    label,
    messages: count,
    seconds,
    messagesPerSecond: Math.round(rate),
    megabytesPerSecond: Number((rate * size / 1e6).toFixed(1)),
    dropped: publisher.stats.dropped - droppedBefore,
    summary: `${Math.round(rate).toLocaleString('en-US').padStart(9)} msg/s  ${(rate * size / 1e6).toFixed(1).padStart(7)} MB/s per subscriber  (${count.toLocaleString('en-US')} messages in ${seconds.toFixed(2)} s, dropped ${publisher.stats.dropped - droppedBefore})`
  }
}

async function latency (publisher, workers, label, rate, seconds) {
  const topic = `latency-${rate}`
  const count = rate * seconds
  await Promise.all(workers.map(async (worker) => await request(worker, { type: 'expect', topic, count, latency: true }, 'subscribed')))
  await settle()
  const done = workers.map((worker) => waitFor(worker, 'done'))
  const payload = Buffer.alloc(64, 0x61)
  // Paced in 1 ms ticks: `rate / 1000` messages per tick, on schedule (catching up if a tick is late).
  const perTick = rate / 1000
  const start = process.hrtime.bigint()
  let sent = 0
  while (sent < count) {
    const due = Math.min(count, Math.floor(Number(process.hrtime.bigint() - start) / 1e6 * perTick) + 1)
    for (; sent < due; sent++) {
      payload.writeBigUInt64LE(process.hrtime.bigint(), 0)
      // Binary: a timestamp is not UTF-8, and the adapter rejects text that is not.
      publisher.publish(topic, payload, true)
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  const replies = await withDeadline(Promise.all(done), `${label}: every subscriber to receive ${count} messages`)
  const all = replies.flatMap((reply) => reply.latencies).sort((a, b) => a - b)
  const pick = (q) => all[Math.min(all.length - 1, Math.floor(q * all.length))] / 1000
  for (const worker of workers) worker.postMessage({ type: 'forget', topic })
  const result = { label, messages: count, p50us: Math.round(pick(0.5)), p99us: Math.round(pick(0.99)), maxUs: Math.round(all[all.length - 1] / 1000) }
  result.summary = `p50 ${String(result.p50us).padStart(5)} µs  p99 ${String(result.p99us).padStart(6)} µs  max ${result.maxUs} µs  (${count} messages)`
  return result
}

// Threads and Redis.

async function startWorker (data) {
  const worker = new Worker(new URL(import.meta.url), { workerData: data })
  await waitFor(worker, 'ready')
  return worker
}

function waitFor (worker, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message.type !== type) return
      worker.off('message', onMessage)
      worker.off('error', onError)
      resolve(message)
    }
    const onError = (error) => {
      worker.off('message', onMessage)
      reject(error)
    }
    worker.on('message', onMessage)
    worker.once('error', onError)
  })
}

async function request (worker, command, reply) {
  const answer = waitFor(worker, reply)
  worker.postMessage(command)
  return await answer
}

/** A run that loses messages would wait forever: fail it after a minute instead. */
async function withDeadline (promise, what) {
  let timer
  const deadline = new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 60_000) })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

// Lets SUBSCRIBE commands reach Redis before the first publish.
const settle = () => new Promise((resolve) => setTimeout(resolve, 100))

// Last, so that every declaration above is initialised before it runs.
if (isMainThread) {
  await main()
} else {
  await subscriberInstance(workerData)
}
