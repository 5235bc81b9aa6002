// A throwaway redis-server for the Redis benchmarks (redis-fanout.js, redis-fanout-e2e.js):
// loopback, a free port, no persistence, its own folder; stopped (and the folder removed) by
// `stop()` or when this process exits. REDIS_SERVER names another binary.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisAdapter } from '../dist/adapters/redis/index.mjs'

export async function startRedis () {
  const port = await new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    }).once('error', reject)
  })
  const dir = mkdtempSync(join(tmpdir(), 'fws-bench-redis-'))
  const child = spawn(process.env.REDIS_SERVER ?? 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
    { stdio: 'ignore' })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  // Interrupted or crashed: the server and its folder go with us.
  const cleanUp = () => {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', cleanUp)
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130))
  const url = `redis://127.0.0.1:${port}`
  // Ready when an adapter can connect to it.
  const deadline = Date.now() + 10_000
  for (;;) {
    const probe = redisAdapter({ url, readyTimeout: 200 })
    await probe.start({ log: { info () {}, warn () {}, error () {} }, deliver () {} })
    const ready = probe.stats.state === 'ready'
    await probe.close()
    if (ready) break
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`)
  }
  return {
    url,
    async stop () {
      process.removeListener('exit', cleanUp)
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
