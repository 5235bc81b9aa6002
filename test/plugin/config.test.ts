/**
 * Configuration errors fail at register or route definition time with Fastify-style codes,
 * not on the first connection.
 */
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket, { type WebSocketPluginOptions } from '../../src/index.js'
import { buildApp, openWs } from '../helpers/app.js'
import { withTimeout } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'

/**
 * Runs a route definition and reports the error it raised, whether at definition time
 * (thrown synchronously) or when the app boots (`ready()` rejects).
 */
async function routeError (app: FastifyInstance, define: () => void): Promise<unknown> {
  try {
    define()
  } catch (error) {
    return error
  }
  try {
    await withTimeout(Promise.resolve(app.ready()), 3000, 'app.ready()')
  } catch (error) {
    return error
  }
  return undefined
}

async function freshApp (t: Teardown): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  t.teardown(() => withTimeout(app.close(), 3000, 'app.close()'))
  await app.register(websocket)
  return app
}

t.test('{ websocket: true } on a POST route fails with FST_WS_INVALID_ROUTE_METHOD', async (t) => {
  const app = await freshApp(t)
  const error = await routeError(app, () => {
    app.post('/ws', { websocket: true }, () => {})
  })
  t.match(error, { code: 'FST_WS_INVALID_ROUTE_METHOD' })
  t.match((error as Error).message, /\/ws/, 'the message names the route')
})

t.test('a wsHandler on a route without GET fails with FST_WS_INVALID_ROUTE_METHOD', async (t) => {
  const app = await freshApp(t)
  const error = await routeError(app, () => {
    app.route({ method: ['PUT', 'POST'], url: '/ws', handler: async () => 'x', wsHandler: () => {} })
  })
  t.match(error, { code: 'FST_WS_INVALID_ROUTE_METHOD' })
})

t.test('GET among several methods is accepted', async (t) => {
  const app = await freshApp(t)
  const error = await routeError(app, () => {
    app.route({ method: ['GET', 'POST'], url: '/ws', websocket: true, handler: () => {} })
  })
  t.equal(error, undefined)
})

const BAD_PLUGIN_OPTIONS: Array<[string, Record<string, unknown>]> = [
  ['maxMessageSize -1', { maxMessageSize: -1 }],
  ['maxMessageSize 1.5', { maxMessageSize: 1.5 }],
  ['maxMessageSize NaN', { maxMessageSize: Number.NaN }],
  ['maxMessageSize as a string', { maxMessageSize: '1024' }],
  ['closeTimeout -1', { closeTimeout: -1 }],
  ['protocols as a string', { protocols: 'chat' }],
  ['protocols with an empty name', { protocols: [''] }],
  ['errorHandler not a function', { errorHandler: 'log' }],
  ['preClose not a function', { preClose: true }]
]

for (const [label, options] of BAD_PLUGIN_OPTIONS) {
  t.test(`register rejects ${label} with FST_WS_INVALID_OPTION`, async (t) => {
    const app = Fastify({ logger: false })
    t.teardown(() => withTimeout(app.close().catch(() => {}), 3000, 'app.close()'))
    await t.rejects(
      withTimeout(Promise.resolve(app.register(websocket, options as WebSocketPluginOptions)), 3000, 'register'),
      { code: 'FST_WS_INVALID_OPTION' }
    )
  })
}

t.test('an invalid route-level option fails at route definition with FST_WS_INVALID_OPTION', async (t) => {
  const app = await freshApp(t)
  const error = await routeError(app, () => {
    app.get('/ws', { websocket: { maxMessageSize: -1 } }, () => {})
  })
  t.match(error, { code: 'FST_WS_INVALID_OPTION' })
})

t.test('valid edge values are accepted and the options object is not mutated', async (t) => {
  const options = Object.freeze({ maxMessageSize: Infinity, closeTimeout: 0, protocols: Object.freeze(['a']) })
  const { wsUrl } = await buildApp(t, { plugin: options as WebSocketPluginOptions })
  t.same(options, { maxMessageSize: Infinity, closeTimeout: 0, protocols: ['a'] })
  const client = await openWs(t, `${wsUrl}/echo`, 'a')
  t.equal(client.protocol, 'a')
})
