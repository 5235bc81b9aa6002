// Memory per idle connection with permessage-deflate, measured on the server side over real
// sockets: each case starts a fresh echo server process (ours: bench/server.js; ws:
// bench/servers/ws.js; @fastify/websocket: bench/servers/fastify-websocket.js; all with
// DEFLATE=1), opens N raw TCP connections to it from this process, optionally exchanges 1 KiB
// JSON messages (compressed by us as a browser would, echoed compressed by the server), lets it
// settle, and reads the server's VmRSS. Reported, in KiB: (VmRSS after - VmRSS before) / N, and
// the marginal cost: the growth from the second half of the connections ÷ N/2 (one-time costs,
// like the allocator's high-water mark after the first burst of zlib work, fall in the first).
//
// Two figures per case: VmRSS (what the OS sees, zlib's native memory included; noisy, as the
// V8 heap and the allocator grow in large steps) and heap + external after a full collection
// (V8's own accounting; zlib reports its native allocations as external memory), read from the
// server through a preloaded one-liner that answers SIGUSR2 (the same for all three servers).
//
//   npm run build && node bench/deflate-idle-memory.js [--conns 1000] [--servers ours,ws,fws] [--json]
//
// Cases:
//   plain                no offer: the cost of a connection without compression
//   idle                 permessage-deflate agreed, no message yet
//   takeover-1           context takeover both ways, one message each way
//   takeover-40          context takeover, 40 messages each way (both 32 KiB windows full)
//   no-takeover-1        server_ and client_no_context_takeover, one message each way
//   no-takeover-40       the same, 40 messages each way
import { spawn } from 'node:child_process'
import { readFileSync, existsSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { randomBytes, createHash } from 'node:crypto'
import zlib from 'node:zlib'

const benchDir = dirname(fileURLToPath(import.meta.url))
const root = dirname(benchDir)
const HOST = '127.0.0.1'

const argv = process.argv.slice(2)
const option = (name, fallback) => { const i = argv.indexOf(name); return i === -1 ? fallback : argv[i + 1] }
const N = Number(option('--conns', 1000))
const SERVER_IDS = option('--servers', 'ours,ws,fws').split(',')
const JSON_OUT = argv.includes('--json')

const SERVERS = {
  ours: { label: 'ours', file: join(benchDir, 'server.js') },
  ws: { label: 'ws', file: join(benchDir, 'servers', 'ws.js') },
  fws: { label: '@fastify/websocket', file: join(benchDir, 'servers', 'fastify-websocket.js') }
}

const TAKEOVER = 'permessage-deflate; client_max_window_bits'
const NO_TAKEOVER = 'permessage-deflate; client_max_window_bits; server_no_context_takeover; client_no_context_takeover'
const CASES = [
  { id: 'plain', offer: null, messages: 0 },
  { id: 'idle', offer: TAKEOVER, messages: 0 },
  { id: 'takeover-1', offer: TAKEOVER, messages: 1 },
  { id: 'takeover-40', offer: TAKEOVER, messages: 40 },
  { id: 'no-takeover-1', offer: NO_TAKEOVER, messages: 1 },
  { id: 'no-takeover-40', offer: NO_TAKEOVER, messages: 40 }
]

// ---------------------------------------------------------------- payloads

/** 1 KiB of JSON-like text, different for each seed. */
function json (seed) {
  let s = seed >>> 0
  let out = `{"type":"update","seq":${seed},"items":[`
  while (out.length < 1024) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    out += `{"id":${s % 100000},"user":"user${s % 977}","status":"${['online', 'away', 'busy'][s % 3]}","score":${(s % 10000) / 100}},`
  }
  return Buffer.from(out.slice(0, 1024))
}

/** The 40 messages every connection sends, compressed as one zlib stream would (the same bytes for every connection). */
async function compressedMessages (takeover) {
  let stream = zlib.createDeflateRaw()
  const out = []
  for (let i = 0; i < 40; i++) {
    const chunks = []
    const onData = (chunk) => chunks.push(chunk)
    stream.on('data', onData)
    stream.write(json(i))
    await new Promise((resolve) => stream.flush(zlib.constants.Z_SYNC_FLUSH, resolve))
    stream.off('data', onData)
    out.push(Buffer.concat(chunks).subarray(0, -4)) // RFC 7692 §7.2.1: strip 00 00 ff ff
    if (!takeover) { stream.close(); stream = zlib.createDeflateRaw() }
  }
  stream.close()
  return out
}

/** A masked client text frame, RSV1 set (RFC 7692 §6.1). */
function frame (payload) {
  const mask = randomBytes(4)
  const n = payload.length
  const head = n < 126 ? Buffer.from([0xc1, 0x80 | n]) : Buffer.from([0xc1, 0x80 | 126, n >> 8, n & 0xff])
  const body = Buffer.alloc(n)
  for (let i = 0; i < n; i++) body[i] = payload[i] ^ mask[i & 3]
  return Buffer.concat([head, mask, body])
}

// ---------------------------------------------------------------- clients

/**
 * Opens one connection, completes the handshake (with `offer`), checks the answer, and resolves
 * with the socket; counts the frames the server sends afterwards in `socket.framesIn`.
 */
function open (port, offer) {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64')
    const socket = connect({ host: HOST, port })
    let head = Buffer.alloc(0)
    let opened = false
    socket.framesIn = 0
    let pending = Buffer.alloc(0)
    socket.on('error', reject)
    socket.on('connect', () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${offer ? `Sec-WebSocket-Extensions: ${offer}\r\n` : ''}\r\n`)
    })
    socket.on('data', (chunk) => {
      if (!opened) {
        head = Buffer.concat([head, chunk])
        const end = head.indexOf('\r\n\r\n')
        if (end === -1) return
        const text = head.subarray(0, end).toString('latin1')
        const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
        if (!text.startsWith('HTTP/1.1 101') || !text.includes(accept)) return reject(new Error(`handshake failed: ${text.split('\r\n')[0]}`))
        const agreed = /\r\nsec-websocket-extensions: *([^\r]*)/i.exec(text)?.[1]
        if (offer && !/^permessage-deflate/.test(agreed ?? '')) return reject(new Error('the server did not agree permessage-deflate'))
        opened = true
        socket.agreed = agreed ?? ''
        chunk = head.subarray(end + 4)
        resolve(socket)
      }
      // Count complete frames (headers only; payloads skipped).
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
      for (;;) {
        if (pending.length < 2) break
        let length = pending[1] & 0x7f
        let offset = 2
        if (length === 126) { if (pending.length < 4) break; length = pending.readUInt16BE(2); offset = 4 } else if (length === 127) { if (pending.length < 10) break; length = Number(pending.readBigUInt64BE(2)); offset = 10 }
        if (pending.length < offset + length) break
        pending = pending.subarray(offset + length)
        socket.framesIn++
      }
    })
  })
}

// ---------------------------------------------------------------- servers

async function freePort () {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, HOST, resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Loaded into each server: collects garbage, then prints its memory, on SIGUSR2. */
const PRELOAD = 'data:text/javascript,' + encodeURIComponent(
  "process.on('SIGUSR2',()=>{for(let i=0;i<4;i++)globalThis.gc();const u=process.memoryUsage();" +
  "process.stdout.write('MEM '+JSON.stringify({heap:u.heapUsed,external:u.external})+'\\n')})")

/** The server's heap + external after a full collection, in KiB. */
async function heapKiB (child) {
  const memory = new Promise((resolve) => child.once('memory', resolve))
  process.kill(child.pid, 'SIGUSR2')
  const m = await Promise.race([memory, sleep(5000).then(() => { throw new Error('no memory report') })])
  return (m.heap + m.external) / 1024
}

function rssKiB (pid) {
  const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) : NaN
}

async function startServer (def) {
  const port = await freePort()
  const child = spawn(process.execPath, ['--expose-gc', '--import', PRELOAD, def.file],
    { cwd: root, env: { ...process.env, PORT: String(port), HOST, DEFLATE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c) => {
    output += c
    const match = /MEM (\{[^\n]*\})\n/.exec(output)
    if (match) {
      output = output.replace(match[0], '')
      child.emit('memory', JSON.parse(match[1]))
    }
  })
  child.stderr.on('data', (c) => { output += c })
  const deadline = Date.now() + 15000
  while (!/listening/.test(output)) {
    if (child.exitCode !== null) throw new Error(`${def.label} exited: ${output}`)
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`${def.label} did not start: ${output}`) }
    await sleep(50)
  }
  return { child, port }
}

async function stopServer (child) {
  if (child.exitCode !== null) return
  child.kill('SIGTERM')
  const exited = await Promise.race([new Promise((resolve) => child.once('exit', () => resolve(true))), sleep(3000).then(() => false)])
  if (!exited) child.kill('SIGKILL')
}

// ---------------------------------------------------------------- the run

async function runCase (def, kase, payloads) {
  const { child, port } = await startServer(def)
  const sockets = []
  try {
    // Warm-up: code paths compiled and first allocations made on connections that then close.
    const warm = []
    for (let i = 0; i < 20; i++) warm.push(await open(port, kase.offer))
    for (const socket of warm) for (let m = 0; m < Math.max(1, kase.messages); m++) if (kase.offer) socket.write(frame(payloads[m]))
    await sleep(300)
    for (const socket of warm) socket.destroy()
    await sleep(1000)
    const before = rssKiB(child.pid)
    const heapBefore = await heapKiB(child)
    // Two stages of N/2: the second one's growth (the marginal cost) leaves out one-time costs,
    // such as the allocator's high-water mark after the first burst of zlib work.
    const half = Math.floor(N / 2)
    const stage = async (count) => {
      const opened = []
      for (let i = 0; i < count; i += 100) {
        opened.push(...await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => open(port, kase.offer))))
      }
      sockets.push(...opened)
      if (kase.messages > 0) {
        const burst = Buffer.concat(payloads.slice(0, kase.messages).map(frame))
        for (const socket of opened) socket.write(burst)
        const deadline = Date.now() + 60000
        while (opened.some((s) => s.framesIn < kase.messages)) {
          if (Date.now() > deadline) throw new Error('echoes did not all arrive')
          await sleep(50)
        }
      }
      await sleep(1500)
      return [rssKiB(child.pid), await heapKiB(child)]
    }
    const [middle, heapMiddle] = await stage(half)
    const [after, heapAfter] = await stage(N - half)
    const agreed = sockets[0].agreed
    return {
      server: def.label,
      case: kase.id,
      conns: N,
      agreed,
      rss_before_kib: before,
      rss_middle_kib: middle,
      rss_after_kib: after,
      kib_per_conn: (after - before) / N,
      marginal_kib_per_conn: (after - middle) / (N - half),
      heap_kib_per_conn: (heapAfter - heapBefore) / N,
      heap_marginal_kib_per_conn: (heapAfter - heapMiddle) / (N - half)
    }
  } finally {
    for (const socket of sockets) socket.destroy()
    await stopServer(child)
  }
}

async function main () {
  if (!existsSync(join(root, 'dist', 'index.mjs'))) throw new Error('dist/ is missing: run `npm run build` first')
  const takeover = await compressedMessages(true)
  const noTakeover = await compressedMessages(false)
  const results = []
  if (!JSON_OUT) process.stdout.write(`${N} connections per case; KiB per connection, server side\n`)
  for (const kase of CASES) {
    for (const id of SERVER_IDS) {
      const def = SERVERS[id]
      if (!def) throw new Error(`unknown server ${id}`)
      const result = await runCase(def, kase, kase.offer === NO_TAKEOVER ? noTakeover : takeover)
      results.push(result)
      if (JSON_OUT) process.stdout.write(JSON.stringify(result) + '\n')
      else {
        const f = (n) => n.toFixed(1).padStart(7)
        process.stdout.write(`${kase.id.padEnd(15)} ${def.label.padEnd(19)} RSS ${f(result.kib_per_conn)} (marginal ${f(result.marginal_kib_per_conn)})  ` +
          `heap+external ${f(result.heap_kib_per_conn)} (marginal ${f(result.heap_marginal_kib_per_conn)}) KiB/conn   ${result.agreed || 'no extension'}\n`)
      }
    }
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`)
  process.exit(1)
})
