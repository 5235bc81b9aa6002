/**
 * The chat example (example-app/chat/server.js) as a child process, started the way a user
 * starts it (`node example-app/chat/server.js`, configured by environment variables, the
 * package imported by name from dist/: run `npm run build` first). Ready when it logs its URL;
 * stopped with SIGTERM (its own graceful shutdown), SIGKILL if that hangs.
 *
 *   const chat = await startChatApp(t, { env: { COOKIE_SECRET: '…' } })
 *   await fetch(`${chat.url}metrics`)
 *   await chat.stop()                                  // and start again on the same port:
 *   const again = await startChatApp(t, { port: chat.port })
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Teardown } from './teardown.js'
import { withTimeout } from './wait.js'

/** The entry point `npm start` runs. */
export const CHAT_SERVER = fileURLToPath(new URL('../../example-app/chat/server.js', import.meta.url))

/** Bound on starting (until the URL is logged) and on stopping, in milliseconds. */
export const CHAT_PROCESS_WAIT = 15_000

/** A running chat app. */
export interface ChatAppProcess {
  /** `http://127.0.0.1:<port>/`, as the app logged it. */
  readonly url: string
  readonly port: number
  /** `http://127.0.0.1:<port>`: the page's origin. */
  readonly origin: string
  readonly pid: number
  /** Every log line so far, parsed (pino JSON). */
  readonly logs: ReadonlyArray<Record<string, unknown>>
  /** SIGTERM and wait for the exit (SIGKILL after CHAT_PROCESS_WAIT); the exit code. */
  stop: () => Promise<number | null>
}

/**
 * Starts the chat on 127.0.0.1 and `port` (default 0: a free one) with `env` added to this
 * process's environment; stopped at the teardown of `t` if the test did not stop it.
 */
export async function startChatApp (t: Teardown, options: { port?: number, env?: Record<string, string> } = {}): Promise<ChatAppProcess> {
  const child = spawn(process.execPath, [CHAT_SERVER], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(options.port ?? 0), LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(async () => { await stopChild(child, exited) })

  const logs: Array<Record<string, unknown>> = []
  const output: string[] = []
  const ready = new Promise<string>((resolve, reject) => {
    let pending = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        output.push(line)
        try {
          const entry = JSON.parse(line) as Record<string, unknown>
          logs.push(entry)
          if (typeof entry.url === 'string') resolve(entry.url)
        } catch {}
      }
    })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { output.push(chunk) })
    child.once('error', reject)
    void exited.then((code) => reject(new Error(`the chat app exited (code ${String(code)}) before it was ready:\n${output.join('\n')}`)))
  })
  const url = await withTimeout(ready, CHAT_PROCESS_WAIT, 'the chat app to log its URL').catch((error: Error) => {
    throw new Error(`${error.message}\n${output.join('\n')}`)
  })
  const parsed = new URL(url)
  return {
    url,
    port: Number(parsed.port),
    origin: parsed.origin,
    pid: child.pid as number,
    logs,
    stop: async () => await stopChild(child, exited)
  }
}

async function stopChild (child: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return await exited
  child.kill('SIGTERM')
  try {
    return await withTimeout(exited, CHAT_PROCESS_WAIT, 'the chat app to exit on SIGTERM')
  } catch (error) {
    child.kill('SIGKILL')
    await exited
    throw error
  }
}
