/**
 * The differences from @fastify/websocket that MIGRATING.md lists as deliberate, each shown on
 * both plugins side by side: what @fastify/websocket does (so the table cannot go stale
 * unnoticed if it changes) and what this plugin does instead. Everything not listed here is
 * meant to behave the same; the other files of this folder run whole apps to prove it.
 */
import { createRequire } from 'node:module'
import t from 'tap'
import Fastify, { type FastifyInstance, type FastifyPluginCallback } from 'fastify'
import WsClient from 'ws'
import ours from '../../src/index.js'
import { withTimeout, sleep } from '../helpers/wait.js'

// Loaded untyped: its type augmentation of 'fastify' conflicts with ours.
const theirs = createRequire(import.meta.url)('@fastify/websocket') as FastifyPluginCallback
const PLUGINS = { theirs, ours } as const
type Which = keyof typeof PLUGINS

interface Teardown { teardown: (fn: () => unknown) => void }

/** What the handlers below use of either plugin's socket (ws's, or ours). */
interface SocketLike {
  on: (event: 'message', listener: (data: Buffer) => void) => unknown
  send: (data: string) => unknown
  close: (code?: number) => unknown
}

/** A websocket handler for either plugin (their types and ours cannot both be loaded). */
function handler (fn: (socket: SocketLike) => unknown): never {
  return fn as never
}

/** An app with `which` plugin, `setup` routes, listening on 127.0.0.1. */
async function listen (t: Teardown, which: Which, setup: (app: FastifyInstance) => void, options: Record<string, unknown> = {}): Promise<{ app: FastifyInstance, url: string, http: string }> {
  const app = Fastify({ logger: false })
  t.teardown(() => withTimeout(app.close(), 8000, 'app.close()'))
  await app.register(PLUGINS[which] as never, options)
  setup(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  return { app, url: `ws://127.0.0.1:${port}`, http: `http://127.0.0.1:${port}` }
}

/** How a `ws` client's connection ended: its close code, or the HTTP status that refused it. */
async function outcome (t: Teardown, url: string, onOpen: (client: WsClient) => void = () => {}): Promise<{ status?: number, code?: number, messages: string[] }> {
  const client = new WsClient(url)
  t.teardown(() => client.terminate())
  const messages: string[] = []
  client.on('message', (data) => messages.push(String(data)))
  return await withTimeout(new Promise((resolve) => {
    client.once('open', () => onOpen(client))
    client.once('unexpected-response', (_request, response) => resolve({ status: response.statusCode, messages }))
    client.once('close', (code) => resolve({ code, messages }))
    client.on('error', () => {})
  }), 8000, `the connection to ${url}`)
}

t.test('plain HTTP to a websocket-only route: 404 there, 426 Upgrade Required here', async (t) => {
  for (const which of ['theirs', 'ours'] as const) {
    const { http } = await listen(t, which, (app) => { app.get('/ws', { websocket: true } as never, () => {}) })
    const response = await fetch(`${http}/ws`)
    if (which === 'theirs') t.equal(response.status, 404, 'theirs: 404')
    else {
      t.equal(response.status, 426, 'ours: 426, RFC 9110 §15.5.22: the client used the wrong protocol')
      t.equal(response.headers.get('upgrade'), 'websocket', 'ours: with the protocol to upgrade to')
    }
  }
})

t.test('a handler that throws: the peer sees 1006 there, 1011 here', async (t) => {
  for (const which of ['theirs', 'ours'] as const) {
    const { url } = await listen(t, which, (app) => {
      app.get('/fail', { websocket: true } as never, () => { throw new Error('bug') })
    })
    const { code } = await outcome(t, `${url}/fail`)
    t.equal(code, which === 'theirs' ? 1006 : 1011, `${which}: ${String(code)}`)
  }
})

t.test('an async handler that attaches its listener after an await: the first message is lost there, delivered here', async (t) => {
  for (const which of ['theirs', 'ours'] as const) {
    const { url } = await listen(t, which, (app) => {
      app.get('/late', { websocket: true } as never, handler(async (socket) => {
        await sleep(200)
        socket.on('message', (data) => socket.send(`echo ${String(data)}`))
        socket.send('ready')
      }))
    })
    const result = await outcome(t, `${url}/late`, (client) => {
      client.send('early')
      client.on('message', (data) => { if (String(data) === 'ready') setTimeout(() => client.close(), 100) })
    })
    if (which === 'theirs') t.same(result.messages, ['ready'], 'theirs: "early" was dropped')
    else t.same(result.messages.sort(), ['echo early', 'ready'], 'ours: "early" was held until the listener came')
  }
})

t.test('messages that arrive after the server\'s own close(): delivered there, not here (as in browsers)', async (t) => {
  for (const which of ['theirs', 'ours'] as const) {
    const received: string[] = []
    const { url } = await listen(t, which, (app) => {
      app.get('/close', { websocket: true } as never, handler((socket) => {
        socket.on('message', (data) => {
          received.push(String(data))
          if (String(data) === 'first') socket.close(1000)
        })
      }))
    })
    await outcome(t, `${url}/close`, (client) => {
      client.send('first')
      client.send('second')
    })
    await sleep(50)
    t.same(received, which === 'theirs' ? ['first', 'second'] : ['first'], which)
  }
})

t.test('an upgrade to a plain HTTP route: 101 then an immediate close there, the route\'s HTTP answer here', async (t) => {
  for (const which of ['theirs', 'ours'] as const) {
    const { url } = await listen(t, which, (app) => { app.get('/plain', async () => 'plain') })
    const result = await outcome(t, `${url}/plain`)
    if (which === 'theirs') t.equal(result.code, 1005, 'theirs: upgraded, then closed without a code')
    else t.equal(result.status, 200, 'ours: not upgraded; the client gets the route\'s answer')
  }
})

t.test('the default message limit: 100 MiB there, 1 MiB here', async (t) => {
  const big = Buffer.alloc(2 * 1024 * 1024, 1)
  for (const which of ['theirs', 'ours'] as const) {
    const { url } = await listen(t, which, (app) => {
      app.get('/echo', { websocket: true } as never, handler((socket) => {
        socket.on('message', (data) => socket.send(`got ${data.length}`))
      }))
    })
    const result = await outcome(t, `${url}/echo`, (client) => {
      client.send(big)
      client.on('message', () => client.close())
    })
    if (which === 'theirs') t.same(result.messages, [`got ${big.length}`], 'theirs: 2 MiB accepted')
    else t.equal(result.code, 1009, 'ours: 2 MiB closes with 1009 unless maxMessageSize says otherwise')
  }
})

t.test('injectWS refused: a bare Error there, the status, headers and body here', async (t) => {
  for (const which of ['theirs', 'ours'] as const) {
    const app = Fastify({ logger: false })
    t.teardown(() => withTimeout(app.close(), 8000, 'app.close()'))
    await app.register(PLUGINS[which] as never)
    app.addHook('onRequest', async (_request, reply) => reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'no token' }))
    app.get('/ws', { websocket: true } as never, () => {})
    await app.ready()
    const error = await (app as unknown as { injectWS: (path: string) => Promise<unknown> }).injectWS('/ws').catch((error: unknown) => error) as Record<string, unknown>
    t.equal((error as unknown as Error).message, 'Unexpected server response: 401', `${which}: same message`)
    if (which === 'theirs') t.equal(error.statusCode, undefined, 'theirs: nothing else')
    else {
      t.equal(error.statusCode, 401)
      t.equal((error.headers as Record<string, string>)['www-authenticate'], 'Bearer')
      t.same(JSON.parse(String(error.body)), { error: 'no token' })
    }
  }
})
