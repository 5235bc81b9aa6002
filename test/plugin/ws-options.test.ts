/**
 * @fastify/websocket's `options` (the `ws` server settings) are understood or refused, never
 * ignored (issue 10): each mapped option changes behaviour the way it does under `ws`, each
 * option without a meaning here fails `register` with FST_WS_INVALID_OPTION and says what to
 * do instead. `verifyClient` has its own file (verify-client.test.ts).
 */
import t from 'tap'
import type { IncomingMessage } from 'node:http'
import type { WebSocketPluginOptions } from '../../src/index.js'
import { buildApp, closeEvent, nextMessage, openWs, registerError } from '../helpers/app.js'
import { deferred, sleep, withTimeout } from '../helpers/wait.js'
import { captureLogs } from '../helpers/logs.js'
import { OP, buildFrame } from '../helpers/frames.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'

t.test('options.maxPayload becomes maxMessageSize: a larger message closes with 1009', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { options: { maxPayload: 10 } } })
  const client = await openWs(t, `${wsUrl}/echo`)
  client.send('0123456789')
  t.equal((await nextMessage(client)).data.toString(), '0123456789', '10 bytes pass')
  client.send('x'.repeat(100))
  t.equal((await closeEvent(client)).code, 1009, '100 bytes close the connection with 1009')
})

t.test('options.maxPayload 0 means no limit, as in ws', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { options: { maxPayload: 0 } } })
  const client = await openWs(t, `${wsUrl}/echo`)
  const big = Buffer.alloc(2 * 1024 * 1024, 7)
  client.send(big)
  const echoed = await nextMessage(client, 10_000)
  t.equal(echoed.data.length, big.length, 'a 2 MiB message passes (over the 1 MiB default)')
})

t.test('options.handleProtocols gets the offers as a Set, in order, and the raw request', async (t) => {
  const calls: Array<{ offers: unknown, isSet: boolean, url: string | undefined, raw: boolean }> = []
  const { wsUrl } = await buildApp(t, {
    plugin: {
      options: {
        handleProtocols (protocols: Set<string>, request: IncomingMessage) {
          calls.push({ offers: [...protocols], isSet: protocols instanceof Set, url: request.url, raw: typeof request.socket === 'object' && !('raw' in request) })
          return protocols.has('chat.v2') ? 'chat.v2' : false
        }
      }
    },
    setup (app) {
      app.get('/p', { websocket: true }, (socket) => { socket.send(socket.protocol) })
    }
  })
  const picked = await openWs(t, `${wsUrl}/p?x=1`, ['chat.v1', 'chat.v2'])
  t.equal(picked.protocol, 'chat.v2')
  t.equal((await nextMessage(picked)).data.toString(), 'chat.v2', 'socket.protocol on the server')
  t.same(calls[0], { offers: ['chat.v1', 'chat.v2'], isSet: true, url: '/p?x=1', raw: true })

  const { client, response } = await RawClient.open(wsUrl, '/p', { headers: { 'Sec-WebSocket-Protocol': 'chat.v1' } })
  t.teardown(() => client.destroy())
  t.equal(response.headers['sec-websocket-protocol'], undefined, 'false selects none')

  const none = await openWs(t, `${wsUrl}/p`)
  t.equal(none.protocol, '')
  t.equal(calls.length, 2, 'not called without offers, as in ws')
})

t.test('options.autoPong false: pings are not answered, the handler sees them and may pong itself', async (t) => {
  const pinged = deferred<string>()
  const { port } = await buildApp(t, {
    plugin: { options: { autoPong: false } },
    setup (app) {
      app.get('/manual', { websocket: true }, (socket) => {
        socket.on('ping', (data) => {
          pinged.resolve(data.toString())
          if (data.toString() === 'answer me') socket.pong(Buffer.from('by hand'))
        })
      })
    }
  })
  const { client } = await RawClient.open(port, '/manual')
  t.teardown(() => client.destroy())
  client.write(buildFrame({ opcode: OP.PING, payload: 'first' }))
  t.equal(await pinged.wait(), 'first', 'the ping reached the handler')
  await sleep(200)
  client.write(buildFrame({ opcode: OP.PING, payload: 'answer me' }))
  const frame = await client.readFrame()
  t.equal(frame.opcode, OP.PONG)
  t.equal(frame.payload.toString(), 'by hand', 'the only pong is the handler\'s: no automatic pong for "first"')
})

t.test('options.autoPong true is the default: pings are answered', async (t) => {
  const { port } = await buildApp(t, { plugin: { options: { autoPong: true } } })
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  client.write(buildFrame({ opcode: OP.PING, payload: 'p' }))
  const frame = await client.readFrame()
  t.same([frame.opcode, frame.payload.toString()], [OP.PONG, 'p'])
})

t.test('options.closeTimeout becomes closeTimeout', async (t) => {
  const { port } = await buildApp(t, {
    plugin: { options: { closeTimeout: 200 } },
    setup (app) {
      app.get('/bye', { websocket: true }, (socket) => { socket.close(1000) })
    }
  })
  const { client } = await RawClient.open(port, '/bye')
  t.teardown(() => client.destroy())
  const started = Date.now()
  const frame = await client.readFrame()
  t.equal(frame.opcode, OP.CLOSE)
  // The client never answers the close: the server gives up after closeTimeout, not the 5 s default.
  await client.waitClosed(4000)
  t.ok(Date.now() - started < 4000, `destroyed after ${Date.now() - started} ms`)
})

t.test('options.clientTracking false: accepted with a warning; sockets are still tracked and closed by app.close()', async (t) => {
  const logs = captureLogs()
  const { app, wsUrl } = await buildApp(t, {
    fastify: { logger: { level: 'warn', stream: logs.stream } },
    plugin: { options: { clientTracking: false } }
  })
  t.ok(logs.lines.some((line) => line.level === 40 && /clientTracking/.test(String(line.msg))), 'warned')
  const client = await openWs(t, `${wsUrl}/echo`)
  await sleep(20)
  t.equal(app.websocketServer.clients.size, 1)
  const closed = closeEvent(client)
  await withTimeout(app.close(), 5000, 'app.close()')
  t.equal((await closed).code, 1001)
})

t.test('options.clientTracking true: nothing to warn about', async (t) => {
  const logs = captureLogs()
  await buildApp(t, { fastify: { logger: { level: 'warn', stream: logs.stream } }, plugin: { options: { clientTracking: true } } })
  t.same(logs.lines, [])
})

t.test('options.path: as in ws, upgrades to other paths get 400; @fastify/websocket\'s warning is logged', async (t) => {
  const logs = captureLogs()
  let otherCalled = false
  const { wsUrl, port } = await buildApp(t, {
    fastify: { logger: { level: 'warn', stream: logs.stream } },
    plugin: { options: { path: '/echo' } },
    setup (app) {
      app.get('/other', { websocket: true }, () => { otherCalled = true })
    }
  })
  t.ok(logs.lines.some((line) => line.msg === 'ws server path option shouldn\'t be provided, use a route instead'))
  const client = await openWs(t, `${wsUrl}/echo?with=query`)
  client.send('same path')
  t.equal((await nextMessage(client)).data.toString(), 'same path')

  const raw = await RawClient.connect(port)
  t.teardown(() => raw.destroy())
  raw.write(handshakeRequest({ path: '/other' }))
  t.equal((await raw.readResponse()).statusCode, 400)
  await raw.waitClosed()
  t.equal(otherCalled, false)
})

t.test('options.skipUTF8Validation false and allowSynchronousEvents true are what happens anyway: accepted', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { options: { skipUTF8Validation: false, allowSynchronousEvents: true } } })
  const client = await openWs(t, `${wsUrl}/echo`)
  client.send('ok')
  t.equal((await nextMessage(client)).data.toString(), 'ok')
})

t.test('options.perMessageDeflate false (ws\'s default) is accepted: no extension', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { options: { perMessageDeflate: false } } })
  const client = await openWs(t, `${wsUrl}/echo`)
  t.equal(client.extensions, '')
})

t.test('options.perMessageDeflate true becomes the plugin\'s perMessageDeflate: compression negotiated', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { options: { perMessageDeflate: true } } })
  const client = await openWs(t, `${wsUrl}/echo`, undefined, { perMessageDeflate: true })
  t.equal(client.extensions, 'permessage-deflate')
  client.send('x'.repeat(4000))
  t.equal((await nextMessage(client)).data.toString(), 'x'.repeat(4000))
})

const REFUSED: Array<[string, Record<string, unknown>, RegExp]> = [
  ['noServer', { noServer: true }, /noServer.*Fastify server/],
  ['noServer false', { noServer: false }, /noServer/],
  ['host', { host: '0.0.0.0' }, /app\.listen\(\{ host \}\)/],
  ['port', { port: 8080 }, /app\.listen\(\{ port \}\)/],
  ['backlog', { backlog: 10 }, /app\.listen\(\{ backlog \}\)/],
  ['server', { server: {} }, /serverFactory/],
  ['maxBufferedChunks', { maxBufferedChunks: 10 }, /maxMessageSize/],
  ['maxFragments', { maxFragments: 10 }, /maxMessageSize/],
  ['maxPendingAutoPongs', { maxPendingAutoPongs: 10 }, /ping flood/],
  ['WebSocket', { WebSocket: class {} }, /this plugin's WebSocket/],
  ['skipUTF8Validation true', { skipUTF8Validation: true }, /always validated/],
  ['allowSynchronousEvents false', { allowSynchronousEvents: false }, /pause\(\)/],
  ['perMessageDeflate with a bad field (checked as the plugin option)', { perMessageDeflate: { serverMaxWindowBits: 99 } }, /perMessageDeflate\.serverMaxWindowBits must be an integer from 8 to 15/],
  ['a typo', { maxPaylod: 10 }, /options\.maxPaylod .*did you mean "maxPayload"/],
  ['an unknown name', { flavour: 'vanilla' }, /options\.flavour is not a ws server option/],
  ['maxPayload -1', { maxPayload: -1 }, /options\.maxPayload must be a non-negative integer/],
  ['maxPayload 1.5', { maxPayload: 1.5 }, /options\.maxPayload/],
  ['handleProtocols not a function', { handleProtocols: ['a'] }, /options\.handleProtocols must be a function/],
  ['verifyClient not a function', { verifyClient: true }, /options\.verifyClient must be a function/],
  ['autoPong not a boolean', { autoPong: 'yes' }, /options\.autoPong must be a boolean/],
  ['clientTracking not a boolean', { clientTracking: 1 }, /options\.clientTracking must be a boolean/],
  ['path without a slash', { path: 'ws' }, /options\.path must be a path/],
  ['closeTimeout -1', { closeTimeout: -1 }, /closeTimeout/]
]

for (const [label, options, message] of REFUSED) {
  t.test(`options: ${label} fails register with FST_WS_INVALID_OPTION and says why`, async (t) => {
    const error = await registerError({ options })
    t.match(error, { code: 'FST_WS_INVALID_OPTION' })
    t.match((error as Error).message, message)
  })
}

t.test('options that is not an object fails register', async (t) => {
  t.match(await registerError({ options: 'maxPayload=10' }), { code: 'FST_WS_INVALID_OPTION', message: /options must be an object/ })
  t.match(await registerError({ options: [1] }), { code: 'FST_WS_INVALID_OPTION' })
})

t.test('a ws option and the plugin option it maps to, both set: refused, naming the one to keep', async (t) => {
  t.match(await registerError({ maxMessageSize: 10, options: { maxPayload: 10 } }), {
    code: 'FST_WS_INVALID_OPTION',
    message: /options\.maxPayload and the plugin's own "maxMessageSize" are both set: keep only maxMessageSize/
  })
  t.match(await registerError({ protocols: ['a'], options: { handleProtocols: () => false } }), { code: 'FST_WS_INVALID_OPTION', message: /protocols/ })
  t.match(await registerError({ autoPong: true, options: { autoPong: false } }), { code: 'FST_WS_INVALID_OPTION', message: /autoPong/ })
  t.match(await registerError({ closeTimeout: 10, options: { closeTimeout: 10 } }), { code: 'FST_WS_INVALID_OPTION', message: /closeTimeout/ })
})

t.test('undefined ws options are skipped, and the options object is never changed', async (t) => {
  const wsOptions = Object.freeze({ maxPayload: 64, clientTracking: undefined, handleProtocols: undefined })
  const options = Object.freeze({ options: wsOptions, closeTimeout: 1000 })
  const { wsUrl } = await buildApp(t, { plugin: options as WebSocketPluginOptions })
  t.same(options, { options: { maxPayload: 64, clientTracking: undefined, handleProtocols: undefined }, closeTimeout: 1000 })
  const client = await openWs(t, `${wsUrl}/echo`)
  client.send('x'.repeat(65))
  t.equal((await closeEvent(client)).code, 1009)
})
