// Profiles one echo server under one scenario and prints the top self-time functions.
//
//   npm run build && node bench/profile.js [--server ours|ws|ws-bu|fws] [--scenario A-bin|A-text|B-64K|B-1M]
//                                          [--seconds 5] [--top 15]
//   node bench/profile.js --summarize FILE.cpuprofile [--top 15]
//
// The server runs under `node --cpu-prof` pinned to CPU 0 with the load generator on CPU 1, as
// in bench/run.js; the profile lands in bench/.work/profile/ (not committed).
import { spawn, execFileSync } from 'node:child_process'
import { readFileSync, readdirSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { dirname, join, relative } from 'node:path'
import { buildLoadgen } from './build-loadgen.js'

const benchDir = dirname(fileURLToPath(import.meta.url))
const root = dirname(benchDir)
const workDir = join(benchDir, '.work')
const argv = process.argv.slice(2)
const option = (name, fallback) => { const i = argv.indexOf(name); return i === -1 ? fallback : argv[i + 1] }
const top = Number(option('--top', 15))

/** Self time per function (name + location), from the samples and their time deltas. */
export function summarize (file, limit = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map()
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i])
    const dt = profile.timeDeltas[i] ?? 0
    total += dt
    const { functionName, url, lineNumber } = node.callFrame
    const where = url ? `${url.replace(/^file:\/\//, '').replace(root + '/', '')}:${lineNumber + 1}` : ''
    const key = `${functionName || '(anonymous)'}\t${where}`
    self.set(key, (self.get(key) ?? 0) + dt)
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit)
  // (idle) is mostly startup and shutdown around the load; the busy share is the one to read.
  const busy = total - (self.get('(idle)\t') ?? 0)
  const lines = [
    `${relative(process.cwd(), file)}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle`, '',
    '| # | self ms | % of busy | function | location |', '| ---: | ---: | ---: | --- | --- |'
  ]
  rows.forEach(([key, us], i) => {
    const [name, where] = key.split('\t')
    const share = name === '(idle)' ? '–' : (us / busy * 100).toFixed(1)
    lines.push(`| ${i + 1} | ${(us / 1e3).toFixed(0)} | ${share} | \`${name}\` | ${where} |`)
  })
  return lines.join('\n')
}

const SERVERS = {
  ours: { file: 'bench/server.js', env: {} },
  ws: { file: 'bench/servers/ws.js', env: { WS_NO_BUFFERUTIL: '1' } },
  'ws-bu': { file: 'bench/servers/ws.js', env: {} },
  fws: { file: 'bench/servers/fastify-websocket.js', env: {} }
}
const LOADS = {
  'A-bin': ['--conns', 100, '--inflight', 32, '--size', 64],
  'A-text': ['--conns', 100, '--inflight', 32, '--size', 64, '--text'],
  'B-64K': ['--conns', 16, '--inflight', 4, '--size', 65536],
  'B-1M': ['--conns', 4, '--inflight', 4, '--size', 1048576],
  C: ['--mode', 'handshake', '--conns', 50],
  'E-latency': ['--mode', 'latency', '--conns', 50, '--rate', 20000, '--size', 64]
}

async function freePort () {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function main () {
  const summarizeFile = option('--summarize')
  if (summarizeFile) {
    process.stdout.write(summarize(summarizeFile, top) + '\n')
    return
  }
  const serverId = option('--server', 'ours')
  const scenario = option('--scenario', 'A-bin')
  const seconds = Number(option('--seconds', 5))
  const def = SERVERS[serverId]
  if (!def || !LOADS[scenario]) throw new Error('unknown --server or --scenario')

  buildLoadgen()
  const profDir = join(workDir, 'profile')
  rmSync(profDir, { recursive: true, force: true })
  mkdirSync(profDir, { recursive: true })

  const port = await freePort()
  const server = spawn('taskset', ['-c', '0', process.execPath, '--cpu-prof', '--cpu-prof-dir', profDir, def.file], {
    cwd: root, env: { ...process.env, ...def.env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'inherit', 'inherit']
  })
  const killServer = () => { try { process.kill(server.pid, 'SIGKILL') } catch {} }
  process.on('exit', () => { if (server.exitCode === null && server.signalCode === null) killServer() })
  try {
    for (let i = 0; ; i++) {
      const ok = await new Promise((resolve) => {
        const s = connect({ port, host: '127.0.0.1' })
        s.once('connect', () => { s.destroy(); resolve(true) })
        s.once('error', () => resolve(false))
      })
      if (ok) break
      if (i > 300 || server.exitCode !== null) throw new Error('server did not start')
      await sleep(50)
    }
    const out = execFileSync('taskset', ['-c', '1', join(workDir, 'loadgen'), ...(LOADS[scenario][0] === '--mode' ? [] : ['--mode', 'echo']), '--port', String(port),
      '--server-pid', String(server.pid), '--warmup', '1', '--duration', String(seconds), ...LOADS[scenario].map(String)], { encoding: 'utf8' })
    process.stdout.write(out)
  } finally {
    if (server.exitCode === null) {
      process.kill(server.pid, 'SIGTERM')
      const exited = await Promise.race([new Promise((resolve) => server.once('exit', () => resolve(true))), sleep(10000).then(() => false)])
      if (!exited) killServer()
    }
  }
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(profDir, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
  if (files.length === 0) throw new Error('no .cpuprofile written (did the server exit cleanly on SIGTERM?)')
  process.stdout.write(summarize(files[0], top) + '\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => { process.stderr.write(`${error.stack ?? error}\n`); process.exit(1) })
}
