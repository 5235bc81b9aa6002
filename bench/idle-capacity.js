// How many idle connections one server process holds, what each costs, and what the heartbeat
// costs in CPU while they sit there (issue 12, D).
//
//   npm run build && node bench/idle-capacity.js [--conns 19000] [--sources 4] [--window 10]
//                                               [--servers ours,fws]
//
// For each server and heartbeat setting (the plugin's defaults, then a ping every second), a
// fresh server (`bench/server.js` or `bench/servers/fastify-websocket.js`, pinned to CPU 0)
// gets `--conns` idle connections from the load generator (CPU 1), which binds them to source
// addresses 127.0.0.1..`--sources` in turn and answers every ping. Reported: connections
// open, server VmRSS after minus before ÷ connections, and the server's CPU over `--window`
// seconds of idleness (utime + stime from /proc), as milliseconds of CPU per second.
//
// The process limit on open files is 20 000 here; a server needs a few for itself, so 19 000
// is about the most. The kernel needs memory for the sockets too; that is not in VmRSS.
import { setTimeout as sleep } from 'node:timers/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildLoadgen } from './build-loadgen.js'
import { HOST, canConnect, checkPinning, freePort, procComm, procCpuSeconds, procRssKiB, spawnPinned, stop, track } from './processes.js'

const benchDir = dirname(fileURLToPath(import.meta.url))
const root = dirname(benchDir)
const argv = process.argv.slice(2)
const option = (name, fallback) => {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : argv[i + 1]
}
const conns = Number(option('--conns', 19000))
const sources = Number(option('--sources', 4))
const windowSeconds = Number(option('--window', 10))
const serverIds = option('--servers', 'ours,fws').split(',')

const SERVERS = {
  ours: { label: 'ours', file: join(benchDir, 'server.js') },
  fws: { label: '@fastify/websocket', file: join(benchDir, 'servers', 'fastify-websocket.js') }
}
// PING_INTERVAL is read by both servers (bench/server.js, bench/servers/fastify-websocket.js).
const HEARTBEATS = [
  { label: 'defaults', env: {} },
  { label: 'ping every 1 s', env: { PING_INTERVAL: '1000' } }
]

async function startServer (file, env) {
  const port = await freePort()
  const child = track(spawnPinned(0, [process.execPath, file], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), HOST },
    stdio: ['ignore', 'ignore', 'inherit']
  }), 'server')
  const deadline = Date.now() + 15000
  while (!(procComm(child.pid) === 'node' && await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server ${file} did not start`)
    await sleep(50)
  }
  await sleep(300)
  return { child, port }
}

/** Opens the connections; resolves with the load generator and its first 'ready' line. */
function openIdle (loadgen, port, pid) {
  const child = track(spawnPinned(1, [loadgen, '--mode', 'idle', '--host', HOST, '--port', String(port),
    '--conns', String(conns), '--sources', String(sources), '--server-pid', String(pid)], { stdio: ['pipe', 'pipe', 'inherit'] }), 'loadgen')
  return new Promise((resolve, reject) => {
    let out = ''
    const onData = (chunk) => {
      out += chunk
      const line = out.split('\n').find((l) => l.includes('"ready"'))
      if (line !== undefined) {
        child.stdout.removeListener('data', onData)
        resolve({ child, ready: JSON.parse(line) })
      }
    }
    child.stdout.on('data', onData)
    child.once('exit', (code) => reject(new Error(`load generator exited (${code}) before its connections were open: ${out}`)))
  })
}

/** Ends the load generator (closing its stdin) and returns its final line (pongs sent). */
async function finish (child) {
  let out = ''
  child.stdout.on('data', (chunk) => { out += chunk })
  child.stdin.end()
  await stop(child, 10000)
  const last = out.trim().split('\n').filter(Boolean).pop()
  return last === undefined ? {} : JSON.parse(last)
}

checkPinning()
const loadgen = buildLoadgen()
const rows = []
for (const id of serverIds) {
  const server = SERVERS[id]
  if (server === undefined) throw new Error(`unknown server ${id}`)
  for (const heartbeat of HEARTBEATS) {
    const { child, port } = await startServer(server.file, heartbeat.env)
    try {
      const rss0 = procRssKiB(child.pid)
      const { child: load, ready } = await openIdle(loadgen, port, child.pid)
      const rss1 = procRssKiB(child.pid)
      await sleep(2000) // the opening's work (and its GC) settles
      const cpu0 = procCpuSeconds(child.pid)
      const t0 = Date.now()
      await sleep(windowSeconds * 1000)
      const cpuMsPerSecond = (procCpuSeconds(child.pid) - cpu0) * 1000 / ((Date.now() - t0) / 1000)
      const rss2 = procRssKiB(child.pid)
      const final = await finish(load)
      rows.push({
        server: server.label,
        heartbeat: heartbeat.label,
        open: ready.open,
        errors: ready.errors,
        kibPerConn: (rss1 - rss0) / ready.open,
        kibPerConnAfterWindow: (rss2 - rss0) / ready.open,
        cpuMsPerSecond,
        pongs: final.pongs ?? 0
      })
      process.stdout.write(JSON.stringify(rows.at(-1)) + '\n')
    } finally {
      await stop(child, 7000)
    }
  }
}

process.stdout.write(`\n${conns} idle connections requested, ${sources} source address(es), ${windowSeconds} s idle window\n\n`)
process.stdout.write('| server | heartbeat | open | KiB/conn (opened) | KiB/conn (after the window) | server CPU while idle | pongs sent |\n')
process.stdout.write('| --- | --- | ---: | ---: | ---: | ---: | ---: |\n')
for (const row of rows) {
  process.stdout.write(`| ${row.server} | ${row.heartbeat} | ${row.open} | ${row.kibPerConn.toFixed(2)} | ${row.kibPerConnAfterWindow.toFixed(2)} | ${row.cpuMsPerSecond.toFixed(1)} ms/s | ${row.pongs} |\n`)
}
