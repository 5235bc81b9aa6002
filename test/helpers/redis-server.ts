/**
 * A real `redis-server` for the adapter tests, started and stopped by the test itself.
 *
 * - Loopback only, on a free port, persistence off (`--save '' --appendonly no`), its working
 *   directory a fresh temporary folder removed in teardown.
 * - `stop()` / `start()` stop the process (by PID) and start a new one on the same port, for
 *   outage tests. Teardown always stops it, and a process `exit` hook kills it if the test
 *   process dies first, so no server outlives its test.
 * - If the server cannot start, the promise rejects with the server's own output: the test
 *   fails with a clear message, it is never skipped.
 * - `command(...)` talks RESP2 over a one-shot TCP connection (no client library), so what the
 *   tests read from the server (`PUBSUB NUMSUB`, `CLIENT LIST`) does not depend on the code
 *   under test.
 * - `startRedisCluster()` starts three such servers in cluster mode, joins them with
 *   `redis-cli --cluster create` and waits for `cluster_state:ok`.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server'
export const REDIS_CLI = process.env.REDIS_CLI ?? 'redis-cli'

/** How long a server may take to answer PING after it was spawned, in milliseconds. */
const START_TIMEOUT = 10_000
/** How long a server may take to exit after SIGTERM before it is killed, in milliseconds. */
const STOP_TIMEOUT = 3_000

/** What the helpers need of tap's `t`. */
export interface Teardown {
  teardown: (fn: () => unknown) => void
}

/** A RESP2 reply: simple and bulk strings as strings, integers as numbers, nil as null. */
export type RespValue = string | number | null | RespValue[] | RespError

/** An error reply from the server (returned, not thrown, so a test can assert on it). */
export class RespError extends Error {}

export interface RedisServerOptions {
  /** Start in cluster mode (`--cluster-enabled yes`). */
  cluster?: boolean
  /** A port to use instead of a free one. */
  port?: number
}

export class RedisServer {
  readonly port: number
  readonly host = '127.0.0.1'
  private readonly dir: string
  private readonly cluster: boolean
  private child: ChildProcess | undefined
  private output = ''
  private readonly killOnExit = (): void => { this.child?.kill('SIGKILL') }

  constructor (port: number, options: RedisServerOptions = {}) {
    this.port = port
    this.cluster = options.cluster === true
    this.dir = mkdtempSync(join(tmpdir(), 'fws-redis-'))
  }

  get url (): string {
    return `redis://${this.host}:${this.port}`
  }

  /** The PID of the running server, or undefined when it is stopped. */
  get pid (): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined
  }

  get running (): boolean {
    return this.pid !== undefined
  }

  /** Spawns the server and resolves once it answers PING; rejects with its output otherwise. */
  async start (): Promise<void> {
    if (this.running) throw new Error(`redis-server on port ${this.port} is already running`)
    const args = [
      '--port', String(this.port),
      '--bind', this.host,
      '--save', '',
      '--appendonly', 'no',
      '--protected-mode', 'no',
      '--daemonize', 'no',
      '--loglevel', 'warning',
      '--dir', this.dir
    ]
    if (this.cluster) {
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${this.port}.conf`, '--cluster-node-timeout', '5000')
    }
    this.output = ''
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    process.once('exit', this.killOnExit)
    child.stdout?.on('data', (chunk: Buffer) => { this.output += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { this.output += chunk.toString() })
    const failed = new Promise<never>((_resolve, reject) => {
      child.once('error', (error) => reject(new Error(`cannot run ${REDIS_SERVER}: ${error.message}`)))
      child.once('exit', (code, signal) => reject(new Error(
        `${REDIS_SERVER} on port ${this.port} exited (code ${String(code)}, signal ${String(signal)}) before answering:\n${this.output}`
      )))
    })
    failed.catch(() => {})
    const deadline = Date.now() + START_TIMEOUT
    for (;;) {
      const answer = await Promise.race([this.command('PING').catch((error: Error) => error), failed])
      if (answer === 'PONG') return
      if (Date.now() > deadline) {
        await this.stop()
        throw new Error(`${REDIS_SERVER} on port ${this.port} did not answer PING within ${START_TIMEOUT} ms:\n${this.output}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** Stops the server by PID (SIGTERM, then SIGKILL) and resolves once the process exited. */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    // A server paused with SIGSTOP would not act on SIGTERM until continued.
    child.kill('SIGCONT')
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT)
    await exited
    clearTimeout(timer)
    process.removeListener('exit', this.killOnExit)
  }

  /** Sends `signal` to the server: `'SIGSTOP'` freezes it with its connections open (a stalled Redis), `'SIGCONT'` resumes it. */
  signal (signal: NodeJS.Signals): void {
    if (!this.running) throw new Error(`redis-server on port ${this.port} is not running`)
    this.child?.kill(signal)
  }

  /** Stops the server and starts a new one on the same port. */
  async restart (): Promise<void> {
    await this.stop()
    await this.start()
  }

  /** Stops the server and removes its working directory. */
  async destroy (): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** Sends one command over a fresh RESP2 connection and resolves with the reply. */
  async command (...args: Array<string | number>): Promise<RespValue> {
    return await respCommand(this.host, this.port, args.map(String))
  }

  /** `PUBSUB NUMSUB` (or `SHARDNUMSUB`) for one channel. */
  async numsub (channel: string, sharded = false): Promise<number> {
    const reply = await this.command('PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', channel)
    if (!Array.isArray(reply) || typeof reply[1] !== 'number') throw new Error(`unexpected NUMSUB reply ${JSON.stringify(reply)}`)
    return reply[1]
  }

  /** `PUBSUB CHANNELS` (or `SHARDCHANNELS`), sorted. */
  async channels (sharded = false): Promise<string[]> {
    const reply = await this.command('PUBSUB', sharded ? 'SHARDCHANNELS' : 'CHANNELS')
    if (!Array.isArray(reply)) throw new Error(`unexpected CHANNELS reply ${JSON.stringify(reply)}`)
    return (reply as string[]).sort()
  }

  /** The clients connected to the server, except the connection asking. */
  async clients (): Promise<Array<Record<string, string>>> {
    const reply = await this.command('CLIENT', 'LIST')
    if (typeof reply !== 'string') throw new Error(`unexpected CLIENT LIST reply ${JSON.stringify(reply)}`)
    return reply.split('\n').filter((line) => line.trim() !== '').map((line) => {
      const fields: Record<string, string> = {}
      for (const pair of line.trim().split(' ')) {
        const at = pair.indexOf('=')
        fields[pair.slice(0, at)] = pair.slice(at + 1)
      }
      return fields
    }).filter((client) => client.cmd !== 'client|list')
  }
}

/** A free TCP port on the loopback interface (the OS picks it; we release it at once). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'))
        else resolve(address.port)
      })
    })
  })
}

/** Starts a redis-server for one test; it is stopped and removed in teardown. */
export async function startRedisServer (t: Teardown, options: RedisServerOptions = {}): Promise<RedisServer> {
  let lastError: unknown
  // A free port can be taken between our check and the server's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const server = new RedisServer(options.port ?? await freePort(), options)
    try {
      await server.start()
      t.teardown(async () => await server.destroy())
      return server
    } catch (error) {
      lastError = error
      await server.destroy()
      if (options.port !== undefined) break
    }
  }
  throw lastError
}

/** Three masters in cluster mode, slots spread evenly, no replicas. */
export interface RedisCluster {
  servers: RedisServer[]
  nodes: Array<{ host: string, port: number }>
}

/** How long forming the cluster may take, in milliseconds. */
const CLUSTER_TIMEOUT = 20_000

export async function startRedisCluster (t: Teardown, size = 3): Promise<RedisCluster> {
  const servers: RedisServer[] = []
  for (let i = 0; i < size; i++) servers.push(await startRedisServer(t, { cluster: true }))
  const nodes = servers.map((server) => ({ host: server.host, port: server.port }))
  await new Promise<void>((resolve, reject) => {
    execFile(REDIS_CLI, ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: CLUSTER_TIMEOUT }, (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`redis-cli --cluster create failed: ${error.message}\n${stdout}\n${stderr}`))
        else resolve()
      })
  })
  const deadline = Date.now() + CLUSTER_TIMEOUT
  for (;;) {
    const states = await Promise.all(servers.map(async (server) => String(await server.command('CLUSTER', 'INFO'))))
    if (states.every((info) => info.includes('cluster_state:ok'))) break
    if (Date.now() > deadline) throw new Error(`the cluster did not reach cluster_state:ok within ${CLUSTER_TIMEOUT} ms:\n${states.join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { servers, nodes }
}

// A minimal RESP2 client: enough for the tests' questions to the server.

async function respCommand (host: string, port: number, args: string[]): Promise<RespValue> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let received = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no reply to ${args[0]} from 127.0.0.1:${port} within 3000 ms`))
    }, 3000)
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const parsed = parseResp(received, 0)
      if (parsed === undefined) return
      clearTimeout(timer)
      socket.destroy()
      resolve(parsed.value)
    })
    let request = `*${args.length}\r\n`
    for (const arg of args) request += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`
    socket.write(request)
  })
}

function parseResp (data: Buffer, offset: number): { value: RespValue, end: number } | undefined {
  const lineEnd = data.indexOf('\r\n', offset)
  if (lineEnd === -1) return undefined
  const type = String.fromCharCode(data[offset])
  const line = data.toString('utf8', offset + 1, lineEnd)
  const next = lineEnd + 2
  switch (type) {
    case '+': return { value: line, end: next }
    case '-': return { value: new RespError(line), end: next }
    case ':': return { value: Number(line), end: next }
    case '$': {
      const length = Number(line)
      if (length < 0) return { value: null, end: next }
      if (data.length < next + length + 2) return undefined
      return { value: data.toString('utf8', next, next + length), end: next + length + 2 }
    }
    case '*': {
      const count = Number(line)
      if (count < 0) return { value: null, end: next }
      const items: RespValue[] = []
      let at = next
      for (let i = 0; i < count; i++) {
        const item = parseResp(data, at)
        if (item === undefined) return undefined
        items.push(item.value)
        at = item.end
      }
      return { value: items, end: at }
    }
    default: throw new Error(`unexpected RESP type ${JSON.stringify(type)}`)
  }
}
