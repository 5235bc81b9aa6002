/**
 * Builds a Fastify app with the plugin and an echo route at `/echo`, listens on 127.0.0.1
 * port 0, closes it in the test's teardown, and returns the URLs. Also small `ws`-client
 * helpers whose every wait is bounded.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import WsClient from 'ws'
import websocket, { type WebSocketPluginOptions } from '../../src/index.js'
import type { Teardown } from './teardown.js'
import { WAIT, withTimeout } from './wait.js'

/** Teardown's bound on `app.close()`: the longest close timeout tests use, plus margin. */
export const CLOSE_BOUND = 7000

export interface BuildOptions {
  plugin?: WebSocketPluginOptions
  fastify?: FastifyServerOptions
  /** Adds routes and hooks before the app listens (the plugin is registered already). */
  setup?: (app: FastifyInstance) => unknown
  /** Skip the `/echo` route. */
  noEcho?: boolean
}

export interface BuiltApp {
  app: FastifyInstance
  port: number
  /** `http://127.0.0.1:<port>` */
  httpUrl: string
  /** `ws://127.0.0.1:<port>` */
  wsUrl: string
}

/** Listens on an ephemeral port; `t.teardown(() => app.close())` (bounded) is registered first thing. */
export async function buildApp (t: Teardown, options: BuildOptions = {}): Promise<BuiltApp> {
  const app = Fastify({ logger: false, ...options.fastify })
  // Bounded: a connection the server failed to close would otherwise stall the run.
  t.teardown(() => withTimeout(app.close(), CLOSE_BOUND, 'app.close() in teardown'))
  await app.register(websocket, options.plugin ?? {})
  if (options.noEcho !== true) {
    app.get('/echo', { websocket: true }, (socket) => {
      socket.on('message', (data, isBinary) => {
        socket.send(data, { binary: isBinary })
      })
    })
  }
  await options.setup?.(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  const port = address.port
  return { app, port, httpUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}` }
}

/** Opens a `ws` client; it is terminated at teardown if still open. */
export async function openWs (
  t: Teardown,
  url: string,
  protocols?: string | string[],
  options: WsClient.ClientOptions = {},
  timeout = WAIT
): Promise<WsClient> {
  const client = new WsClient(url, protocols, options)
  t.teardown(() => client.terminate())
  // Listen from the start: frames that came with the 101 are emitted before a continuation
  // after the 'open' event could attach a listener.
  const inbox = new Inbox()
  inboxes.set(client, inbox)
  client.on('message', (data: WsClient.RawData, isBinary: boolean) => inbox.push({ data: toBuffer(data), isBinary }))
  closes.set(client, new Promise((resolve) => {
    client.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }))
  }))
  await withTimeout(new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve())
    client.once('error', reject)
    client.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)))
  }), timeout, `ws open ${url}`)
  return client
}

export interface ReceivedMessage {
  data: Buffer
  isBinary: boolean
}

/** Messages a client received and no test has taken yet, in order. */
class Inbox {
  private readonly messages: ReceivedMessage[] = []
  private readonly waiters: Array<(message: ReceivedMessage) => void> = []

  push (message: ReceivedMessage): void {
    const waiter = this.waiters.shift()
    if (waiter !== undefined) waiter(message)
    else this.messages.push(message)
  }

  async next (timeout: number): Promise<ReceivedMessage> {
    const queued = this.messages.shift()
    if (queued !== undefined) return queued
    let waiter: ((message: ReceivedMessage) => void) | undefined
    try {
      return await withTimeout(new Promise<ReceivedMessage>((resolve) => {
        waiter = resolve
        this.waiters.push(resolve)
      }), timeout, 'a ws message')
    } finally {
      const index = waiter === undefined ? -1 : this.waiters.indexOf(waiter)
      if (index !== -1) this.waiters.splice(index, 1)
    }
  }
}

const inboxes = new WeakMap<WsClient, Inbox>()

/** The next message a client opened with `openWs` received (including ones already queued). */
export async function nextMessage (client: WsClient, timeout = WAIT): Promise<ReceivedMessage> {
  const inbox = inboxes.get(client)
  if (inbox === undefined) throw new Error('nextMessage needs a client opened with openWs')
  return await inbox.next(timeout)
}

export interface CloseInfo {
  code: number
  reason: string
}

const closes = new WeakMap<WsClient, Promise<CloseInfo>>()

/** The 'close' event of a client opened with `openWs` (recorded from the start, so never missed). */
export async function closeEvent (client: WsClient, timeout = WAIT): Promise<CloseInfo> {
  const closed = closes.get(client)
  if (closed === undefined) throw new Error('closeEvent needs a client opened with openWs')
  return await withTimeout(closed, timeout, 'the ws close event')
}

export function toBuffer (data: WsClient.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

/** The error `app.register(websocket, options)` fails with (bounded), or undefined if it succeeds. */
export async function registerError (options: unknown): Promise<unknown> {
  const app = Fastify({ logger: false })
  try {
    await withTimeout(Promise.resolve(app.register(websocket, options as WebSocketPluginOptions)), 3000, 'register')
  } catch (error) {
    return error
  } finally {
    await app.close().catch(() => {})
  }
  return undefined
}
