// Process bookkeeping for the benchmark scripts (run.js, idle-capacity.js): children started
// pinned to a core with a raised fd limit, tracked by PID and killed (only they) on exit or a
// signal; readings from /proc. Importing it installs the exit and signal handlers.
import { spawn, execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'

export const HOST = '127.0.0.1'
const FD_LIMIT = 20000

/** Every child we started and that has not exited yet, by PID. Only these are ever killed. */
const children = new Map()

export function track (child, name) {
  children.set(child.pid, name)
  child.once('exit', () => children.delete(child.pid))
  return child
}

export function killAll (signal = 'SIGKILL') {
  for (const pid of children.keys()) {
    try { process.kill(pid, signal) } catch {}
  }
}

process.on('exit', () => killAll())
process.stdout.on('error', () => {}) // a closed pipe (`| head`) must not abort a run midway
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping children\n`)
    killAll()
    process.exit(130)
  })
}

/** Starts `argv` in a shell that raises the fd limit and pins it to `cpu`; the PID is the program's. */
export function spawnPinned (cpu, argv, options) {
  const script = `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${pinPrefix(cpu)} "$@"`
  return spawn('bash', ['-c', script, 'bash', ...argv], options)
}

export let havePinning = true
export function pinPrefix (cpu) {
  return havePinning ? `taskset -c ${cpu}` : ''
}

/** Resolves true when the child exits, false after `ms` (the timer does not hold the process). */
export function waitExit (child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.removeListener('exit', onExit); resolve(false) }, ms)
    const onExit = () => { clearTimeout(timer); resolve(true) }
    child.once('exit', onExit)
  })
}

export async function stop (child, graceMs) {
  if (child.exitCode !== null || child.signalCode !== null) return
  try { process.kill(child.pid, 'SIGTERM') } catch {}
  if (!(await waitExit(child, graceMs))) {
    try { process.kill(child.pid, 'SIGKILL') } catch {}
    await waitExit(child, 2000)
  }
}

export function procCpuSeconds (pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}

export function procRssKiB (pid) {
  try {
    const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : NaN
  } catch {
    return NaN
  }
}

export function procComm (pid) {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() } catch { return '' }
}

/** Busy CPU-seconds of the whole machine (all cores), from /proc/stat. */
export function machineBusySeconds () {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number)
  const total = v.reduce((a, b) => a + b, 0)
  return (total - v[3] - v[4]) / 100
}

export async function freePort () {
  const server = createServer()
  await new Promise((resolve, reject) => server.listen(0, HOST, resolve).once('error', reject))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

export function canConnect (port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: HOST })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

export function checkPinning () {
  try {
    execFileSync('taskset', ['-c', '1', 'true'])
  } catch {
    havePinning = false
    process.stderr.write('warning: taskset -c 1 failed; servers and load run unpinned\n')
  }
}
