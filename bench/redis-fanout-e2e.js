// Topic fan-out end to end, through the plugin and real sockets (issue 14):
// one instance (no Redis), then two instances joined by the Redis adapter, 2 000 subscribers
// on each. A publisher sends to instance A, which publishes every message to a topic; we
// measure what arrives at the subscribers.
//
//   npm run build && node bench/redis-fanout-e2e.js [--subscribers 2000] [--rate 20] [--seconds 5]
//                                                   [--burst 500]
//
// Processes: a redis-server (started here, bench/redis-server.js), each instance its own
// `node` (bench/servers/fanout-instance.js: Fastify, the plugin, `/sub` subscribes the socket
// to the topic, `/pub` publishes every message it gets), the subscribers in the C load generator
// (`--mode fanout`, one per instance), the publisher here (our `connect()` client). Each
// message carries process.hrtime.bigint() of its sending (CLOCK_MONOTONIC, the same clock in
// every process), so the load generators measure publish-to-receipt latency.
//
// Two runs per setup:
// - latency: `--rate` messages/s for `--seconds`, each to every subscriber: p50 / p99 / max
//   from the publisher's send to receipt, for A's (local) and B's (through Redis) subscribers;
// - throughput: `--burst` messages sent back to back; deliveries/s = messages received by all
//   subscribers ÷ the time from the first receipt to the last, and every one must arrive.
// Everything shares this machine's two cores: the figures are what it sustains, servers,
// Redis and clients together, and are comparable between the setups of one run.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildLoadgen } from './build-loadgen.js'
import { HOST, freePort, stop, track } from './processes.js'

const benchDir = dirname(fileURLToPath(import.meta.url))
const argv = process.argv.slice(2)
const option = (name, fallback) => {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : argv[i + 1]
}

await main()

async function startInstance (env) {
  const port = await freePort()
  const child = track(spawn(process.execPath, [join(benchDir, 'servers', 'fanout-instance.js')], {
    env: { ...process.env, ...env, PORT: String(port), HOST },
    stdio: ['ignore', 'pipe', 'inherit']
  }), 'instance')
  let out = ''
  for await (const chunk of child.stdout) {
    out += chunk
    if (out.includes('ready')) break
  }
  if (!out.includes('ready')) throw new Error('an instance did not start')
  return { child, port }
}

/** The load generator holding `count` subscribers on `port`; resolves once they are open. */
async function startSubscribers (loadgen, port, count) {
  const child = track(spawn(loadgen, ['--mode', 'fanout', '--host', HOST, '--port', String(port), '--path', '/sub',
    '--conns', String(count)], { stdio: ['pipe', 'pipe', 'inherit'] }), 'subscribers')
  let out = ''
  const onData = (chunk) => { out += chunk }
  child.stdout.on('data', onData)
  const deadline = Date.now() + 30_000
  while (!out.includes('"ready"')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`subscribers did not open: ${out}`)
    await sleep(50)
  }
  return {
    /** Stops it and returns its counts and latencies. */
    async result () {
      child.stdin.end()
      await once(child, 'exit')
      return JSON.parse(out.trim().split('\n').pop())
    }
  }
}

/** Sends `count` stamped 64-byte messages to /pub, paced at `rate` per second (Infinity: at once). */
async function publish (connect, port, count, rate) {
  const socket = await connect(`ws://${HOST}:${port}/pub`)
  const started = process.hrtime.bigint()
  for (let i = 0; i < count; i++) {
    if (Number.isFinite(rate)) {
      const due = started + BigInt(Math.round(i * 1e9 / rate))
      const wait = Number(due - process.hrtime.bigint()) / 1e6
      if (wait > 0) await sleep(wait)
    }
    const payload = Buffer.alloc(64)
    payload.writeBigUInt64LE(process.hrtime.bigint(), 0)
    socket.send(payload)
  }
  socket.close()
  await once(socket, 'close')
}

async function runSetup (label, instances, loadgen, connect, { subscribers, rate, seconds, burst }) {
  const rows = []
  for (const [kind, count, pace] of [['latency', rate * seconds, rate], ['throughput', burst, Infinity]]) {
    const groups = []
    for (const instance of instances) groups.push(await startSubscribers(loadgen, instance.port, subscribers))
    await sleep(300) // the subscriptions reach Redis
    await publish(connect, instances[0].port, count, pace)
    // Let the last messages arrive: a second per 100 000 deliveries, at least one.
    await sleep(1000 + count * subscribers * instances.length / 100)
    const results = []
    for (const group of groups) results.push(await group.result())
    results.forEach((result, index) => {
      const where = instances.length === 1 ? 'A (local)' : index === 0 ? 'A (local)' : 'B (through Redis)'
      const expected = count * subscribers
      rows.push({
        setup: label,
        run: kind === 'latency' ? `${rate} msg/s × ${seconds} s` : `${burst} at once`,
        subscribers: where,
        received: `${result.received}/${expected}`,
        deliveriesPerSecond: kind === 'throughput' ? Math.round(result.received / result.span_s) : undefined,
        p50: result.p50_us,
        p99: result.p99_us,
        max: result.max_us,
        complete: result.received === expected
      })
    })
  }
  return rows
}

async function main () {
  const subscribers = Number(option('--subscribers', 2000))
  const settings = { subscribers, rate: Number(option('--rate', 20)), seconds: Number(option('--seconds', 5)), burst: Number(option('--burst', 500)) }
  const loadgen = buildLoadgen()
  const { connect } = await import('../dist/index.mjs')
  const { startRedis } = await import('./redis-server.js')
  const rows = []

  const single = await startInstance({})
  try {
    rows.push(...await runSetup('1 instance', [single], loadgen, connect, settings))
  } finally {
    await stop(single.child, 5000)
  }

  const redis = await startRedis()
  try {
    const a = await startInstance({ REDIS_URL: redis.url })
    const b = await startInstance({ REDIS_URL: redis.url })
    try {
      rows.push(...await runSetup('2 instances + Redis', [a, b], loadgen, connect, settings))
    } finally {
      await stop(a.child, 5000)
      await stop(b.child, 5000)
    }
  } finally {
    await redis.stop()
  }

  process.stdout.write(`\n${subscribers} subscribers per instance, 64 B binary messages published on A, Node ${process.version}\n\n`)
  process.stdout.write('| setup | run | subscribers on | received | deliveries/s | p50 µs | p99 µs | max µs |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n')
  for (const row of rows) {
    process.stdout.write(`| ${row.setup} | ${row.run} | ${row.subscribers} | ${row.received} | ${row.deliveriesPerSecond?.toLocaleString('en-US') ?? '–'} | ${row.p50.toFixed(0)} | ${row.p99.toFixed(0)} | ${row.max.toFixed(0)} |\n`)
  }
  if (rows.some((row) => !row.complete)) {
    process.stdout.write('\nSome messages did not arrive (see "received").\n')
    process.exitCode = 1
  }
}
