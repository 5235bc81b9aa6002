// permessage-deflate memory per connection: our inflater + deflater pair against ws's
// PerMessageDeflate (long-lived zlib streams), idle and after messages, with and without
// context takeover. Memory is RSS growth over N connections (zlib's own allocations are native),
// with V8 heap + external for comparison.
// `npx tsc -p tsconfig.build.json && node --expose-gc bench/micro/deflate-memory.js`
import { createRequire } from 'node:module'
import zlib from 'node:zlib'
import { MessageDeflater, MessageInflater, PENDING, SETTINGS, json, limiter } from './deflate-fixtures.js'

const require = createRequire(import.meta.url)
// ws does not export it; load the file next to its entry point.
const PerMessageDeflate = require(require.resolve('ws').replace(/index\.js$/, 'lib/permessage-deflate.js'))

if (typeof global.gc !== 'function') throw new Error('run with --expose-gc')
const N = Number(process.env.CONNECTIONS ?? 1000)
const messages = Array.from({ length: 40 }, (_, i) => json(1024, i))
// What a context-takeover client sends: one long-lived stream.
async function peerPayloads (takeover) {
  let stream = zlib.createDeflateRaw()
  const out = []
  for (const message of messages) {
    const chunks = []
    const onData = (c) => chunks.push(c)
    stream.on('data', onData)
    stream.write(message)
    await new Promise((resolve) => stream.flush(zlib.constants.Z_SYNC_FLUSH, resolve))
    stream.off('data', onData)
    out.push(Buffer.concat(chunks).subarray(0, -4))
    if (!takeover) { stream.close(); stream = zlib.createDeflateRaw() }
  }
  stream.close()
  return out
}

async function settle (start) {
  return await new Promise((resolve) => {
    const result = start(resolve)
    if (result !== PENDING) resolve(result)
  })
}

async function snapshot () {
  for (let i = 0; i < 3; i++) { global.gc(); await new Promise((resolve) => setImmediate(resolve)) }
  const m = process.memoryUsage()
  return { rss: m.rss, heap: m.heapUsed + m.external }
}

async function measure (name, create, exercise) {
  const before = await snapshot()
  const connections = []
  for (let i = 0; i < N; i++) connections.push(create())
  for (const connection of connections) await exercise(connection)
  const after = await snapshot()
  const rss = (after.rss - before.rss) / N / 1024
  const heap = (after.heap - before.heap) / N / 1024
  process.stdout.write(`  ${name.padEnd(62)} ${rss.toFixed(1).padStart(7)} KiB RSS ${heap.toFixed(1).padStart(7)} KiB heap+external\n`)
  // Keep the connections alive until measured.
  return connections.length
}

const takeoverPayloads = await peerPayloads(true)
const freshPayloads = await peerPayloads(false)

function ours (takeover) {
  return {
    deflater: new MessageDeflater({ windowBits: 15, contextTakeover: takeover, threshold: 0, zlib: SETTINGS, limiter }),
    inflater: new MessageInflater({ windowBits: 15, contextTakeover: takeover, maxMessageSize: 1 << 20, limiter })
  }
}
async function oursExchange (c, count, takeover) {
  const payloads = takeover ? takeoverPayloads : freshPayloads
  for (let i = 0; i < count; i++) {
    await settle((cb) => c.inflater.inflate(payloads[i], true, cb))
    await settle((cb) => c.deflater.deflate(messages[i], cb))
  }
}

function wsPair (takeover) {
  const pmd = new PerMessageDeflate({ serverNoContextTakeover: !takeover, clientNoContextTakeover: !takeover }, true, 1 << 20)
  pmd.accept([{}])
  return pmd
}
async function wsExchange (pmd, count, takeover) {
  const payloads = takeover ? takeoverPayloads : freshPayloads
  for (let i = 0; i < count; i++) {
    await new Promise((resolve, reject) => pmd.decompress(payloads[i], true, (error) => error ? reject(error) : resolve()))
    await new Promise((resolve, reject) => pmd.compress(messages[i], true, (error) => error ? reject(error) : resolve()))
  }
}

process.stdout.write(`memory per connection, ${N} connections, 1 KiB JSON messages\n`)
process.stdout.write('ours (one-shot zlib, history kept as a dictionary):\n')
await measure('negotiated, idle (objects only)', () => ours(true), async () => {})
await measure('one message each way, context takeover', () => ours(true), (c) => oursExchange(c, 1, true))
await measure('40 messages each way (32 KiB windows full), context takeover', () => ours(true), (c) => oursExchange(c, 40, true))
await measure('one message each way, no context takeover', () => ours(false), (c) => oursExchange(c, 1, false))
process.stdout.write('ws 8 PerMessageDeflate (long-lived zlib streams):\n')
await measure('negotiated, idle', () => wsPair(true), async () => {})
await measure('one message each way, context takeover', () => wsPair(true), (c) => wsExchange(c, 1, true))
await measure('40 messages each way, context takeover', () => wsPair(true), (c) => wsExchange(c, 40, true))
await measure('one message each way, no context takeover', () => wsPair(false), (c) => wsExchange(c, 1, false))
