/**
 * Nothing a user passes is silently ignored (issue 10): an unknown top-level option fails
 * `register`, and an unknown key in a route's `websocket: { ... }` fails the route definition,
 * both with FST_WS_INVALID_OPTION and a message that names the replacement.
 */
import t from 'tap'
import { memoryAdapter } from '../../src/index.js'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket, { type WebSocketPluginOptions } from '../../src/index.js'
import { CONNECTION_OPTION_KEYS, PLUGIN_ONLY_OPTION_KEYS, nearestName } from '../../src/plugin/option-keys.js'
import { buildApp, nextMessage, openWs, registerError } from '../helpers/app.js'
import { withTimeout } from '../helpers/wait.js'
import { OP, buildFrame } from '../helpers/frames.js'
import { RawClient } from '../helpers/raw-client.js'

async function routeError (t: { teardown: (fn: () => unknown) => void }, define: (app: FastifyInstance) => void): Promise<unknown> {
  const app = Fastify({ logger: false })
  t.teardown(() => withTimeout(app.close().catch(() => {}), 3000, 'app.close()'))
  await app.register(websocket)
  try {
    define(app)
    await withTimeout(Promise.resolve(app.ready()), 3000, 'ready')
  } catch (error) {
    return error
  }
  return undefined
}

t.test('a misspelt top-level option fails register and suggests the right name', async (t) => {
  const error = await registerError({ maxMesageSize: 10 })
  t.match(error, { code: 'FST_WS_INVALID_OPTION' })
  t.match((error as Error).message, /unknown option "maxMesageSize": did you mean "maxMessageSize"\?/)
})

t.test('an unknown top-level option that is no typo lists the known options', async (t) => {
  const error = await registerError({ colour: 'blue' })
  t.match(error, { code: 'FST_WS_INVALID_OPTION', message: /unknown option "colour": known options are .*maxMessageSize.*preClose/ })
})

const FOREIGN: Array<[string, RegExp]> = [
  ['maxPayload', /use maxMessageSize.*options: \{ maxPayload \}/],
  ['handleProtocols', /use protocols/],
  ['verifyClient', /options: \{ verifyClient \}/],
  ['handle', /declare a route with \{ websocket: true \}/],
  ['connectionOptions', /older @fastify\/websocket/]
]
for (const [name, message] of FOREIGN) {
  t.test(`a top-level "${name}" (a ws or old @fastify/websocket name) fails register with what to write instead`, async (t) => {
    t.match(await registerError({ [name]: 1 }), { code: 'FST_WS_INVALID_OPTION', message })
  })
}

t.test('Fastify\'s own register options (prefix, logLevel, logSerializers) are not ours to refuse', async (t) => {
  t.equal(await registerError({ prefix: '/x', logLevel: 'warn', logSerializers: {} }), undefined)
})

t.test('every documented option is accepted at the top level', async (t) => {
  const options: WebSocketPluginOptions = {
    maxMessageSize: 1,
    closeTimeout: 1,
    protocols: ['a'],
    pingInterval: false,
    pongTimeout: 1,
    idleTimeout: false,
    maxBufferedAmount: 1,
    backpressurePolicy: 'drop',
    autoPong: true,
    perMessageDeflate: true,
    allowedOrigins: ['https://app.example'],
    requireOrigin: false,
    handshakeTimeout: 1,
    errorHandler () {},
    async preClose () {},
    options: {},
    adapter: memoryAdapter()
  }
  t.same(Object.keys(options).sort(), [...Object.keys(CONNECTION_OPTION_KEYS), ...Object.keys(PLUGIN_ONLY_OPTION_KEYS)].sort(), 'this test covers the whole list')
  t.equal(await registerError(options), undefined)
})

t.test('a misspelt route option fails the route definition, naming the route', async (t) => {
  const error = await routeError(t, (app) => {
    app.get('/ws', { websocket: { maxMesageSize: 10 } as never }, () => {})
  })
  t.match(error, { code: 'FST_WS_INVALID_OPTION', message: /route \/ws: unknown websocket option "maxMesageSize": did you mean "maxMessageSize"\?/ })
})

t.test('a plugin-wide option in a route says where it goes', async (t) => {
  for (const key of ['handshakeTimeout', 'errorHandler', 'preClose', 'options']) {
    const error = await routeError(t, (app) => {
      app.get('/ws', { websocket: { [key]: undefined } as never }, () => {})
    })
    t.match(error, { code: 'FST_WS_INVALID_OPTION', message: new RegExp(`"${key}" applies to the whole plugin: pass it to register`) }, key)
  }
})

t.test('a route\'s websocket must be true, false or an object', async (t) => {
  for (const value of ['yes', 1, null, ['maxMessageSize']]) {
    const error = await routeError(t, (app) => {
      app.route({ method: 'GET', url: '/ws', websocket: value as never, handler: () => {} })
    })
    t.match(error, { code: 'FST_WS_INVALID_OPTION', message: /option "websocket" must be true, false or an object/ }, JSON.stringify(value))
  }
})

t.test('autoPong can be set per route', async (t) => {
  const { port, wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/quiet', { websocket: { autoPong: false } }, (socket) => {
        socket.on('ping', () => socket.send('saw a ping'))
      })
    }
  })
  const { client } = await RawClient.open(port, '/quiet')
  t.teardown(() => client.destroy())
  client.write(buildFrame({ opcode: OP.PING, payload: 'p' }))
  const frame = await client.readFrame()
  t.same([frame.opcode, frame.payload.toString()], [OP.TEXT, 'saw a ping'], 'no pong before the message: not answered')

  const echo = await openWs(t, `${wsUrl}/echo`)
  echo.send('other routes keep the plugin default')
  t.ok(await nextMessage(echo))
})

t.test('autoPong must be a boolean', async (t) => {
  t.match(await registerError({ autoPong: 'no' }), { code: 'FST_WS_INVALID_OPTION', message: /autoPong/ })
})

t.test('nearestName: typos are found, unrelated names are not', async (t) => {
  const known = ['maxMessageSize', 'closeTimeout', 'protocols']
  t.equal(nearestName('maxmessagesize', known), 'maxMessageSize', 'case')
  t.equal(nearestName('closeTimout', known), 'closeTimeout', 'a missing letter')
  t.equal(nearestName('protocls', known), 'protocols')
  t.equal(nearestName('banana', known), undefined)
})

t.test('injectWS refuses an option it does not know instead of ignoring it', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => withTimeout(app.close(), 3000, 'app.close()'))
  await app.register(websocket)
  app.get('/ws', { websocket: true }, () => {})
  const error = await app.injectWS('/ws', { remoteAddress: '10.0.0.1' } as never).catch((error: unknown) => error)
  t.type(error, TypeError)
  t.match(error, { message: /injectWS: unknown option "remoteAddress"/ })
})
