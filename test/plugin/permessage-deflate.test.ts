/**
 * permessage-deflate through the plugin (RFC 7692 §5, §7): the option plugin-wide and per
 * route, negotiation in the real upgrade (the first offer we can honour is accepted and
 * answered; a malformed or unacceptable one is declined and the upgrade succeeds
 * uncompressed), `socket.extensions`, and `ws` and our client as peers.
 */
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import WsClient from 'ws'
import websocket, { connect, type WebSocket } from '../../src/index.js'
import { buildApp, nextMessage, openWs } from '../helpers/app.js'
import { deferred } from '../helpers/wait.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'
import { startRawServer } from '../helpers/raw-server.js'

/** Upgrades with `offer` as Sec-WebSocket-Extensions; returns the 101's answer and the socket's view. */
async function negotiate (t: Test, plugin: object, offer: string | string[] | undefined, route: object | boolean = true) {
  const server = deferred<WebSocket>()
  const { port } = await buildApp(t, {
    plugin,
    setup (app) {
      app.get('/n', { websocket: route as true }, (socket) => { server.resolve(socket) })
    }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  const lines = offer === undefined ? [] : (typeof offer === 'string' ? [offer] : offer).map((value) => `Sec-WebSocket-Extensions: ${value}`)
  client.write(handshakeRequest({ path: '/n', extraLines: lines }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 101, 'the upgrade succeeds whatever the offer')
  const socket = await server.wait()
  return { answer: response.headers['sec-websocket-extensions'], extensions: socket.extensions }
}

t.test('negotiation table', async (t) => {
  const cases: Array<[string, object, string | string[] | undefined, string | undefined]> = [
    ['no option: offers are declined', {}, 'permessage-deflate', undefined],
    ['a plain offer', { perMessageDeflate: true }, 'permessage-deflate', 'permessage-deflate'],
    ["Chromium's offer", { perMessageDeflate: true }, 'permessage-deflate; client_max_window_bits', 'permessage-deflate'],
    ['no offer', { perMessageDeflate: true }, undefined, undefined],
    ['an unknown extension, then ours', { perMessageDeflate: true }, 'x-webkit-deflate-frame, permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover'],
    ['two offers: the first we can honour wins', { perMessageDeflate: true }, 'permessage-deflate; server_max_window_bits=10, permessage-deflate', 'permessage-deflate; server_max_window_bits=10'],
    ['several header lines are one list', { perMessageDeflate: true }, ['foo', 'permessage-deflate; client_max_window_bits=12'], 'permessage-deflate; client_max_window_bits=12'],
    ['a quoted value', { perMessageDeflate: true }, 'permessage-deflate; server_max_window_bits="11"', 'permessage-deflate; server_max_window_bits=11'],
    ['an out-of-range value is declined', { perMessageDeflate: true }, 'permessage-deflate; server_max_window_bits=16', undefined],
    ['an unknown parameter is declined', { perMessageDeflate: true }, 'permessage-deflate; foo=1', undefined],
    ['a repeated parameter is declined', { perMessageDeflate: true }, 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', undefined],
    ['a malformed header is declined', { perMessageDeflate: true }, 'permessage-deflate; ;;= "', undefined],
    ['a malformed offer, then a good one', { perMessageDeflate: true }, 'permessage-deflate; server_max_window_bits=0, permessage-deflate', 'permessage-deflate'],
    ['our limits are announced', { perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12 } }, 'permessage-deflate; client_max_window_bits',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12'],
    ['a client window limit needs the client to have offered it', { perMessageDeflate: { clientMaxWindowBits: 10 } }, 'permessage-deflate', undefined],
    ['... and is answered when it did', { perMessageDeflate: { clientMaxWindowBits: 10 } }, 'permessage-deflate; client_max_window_bits', 'permessage-deflate; client_max_window_bits=10']
  ]
  for (const [name, plugin, offer, expected] of cases) {
    const { answer, extensions } = await negotiate(t, plugin, offer)
    t.equal(answer, expected, `${name}: the 101 answers ${String(expected)}`)
    t.equal(extensions, expected ?? '', `${name}: socket.extensions`)
  }
})

t.test('per route: on for one route, off for another', async (t) => {
  const on = await negotiate(t, {}, 'permessage-deflate', { perMessageDeflate: true })
  t.equal(on.answer, 'permessage-deflate')
  const off = await negotiate(t, { perMessageDeflate: true }, 'permessage-deflate', { perMessageDeflate: false })
  t.equal(off.answer, undefined)
})

t.test('invalid options fail at register and at route definition with FST_WS_INVALID_OPTION', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await Fastify().register(websocket, { perMessageDeflate: { serverMaxWindowBits: 16 } }) },
    { code: 'FST_WS_INVALID_OPTION', message: /perMessageDeflate\.serverMaxWindowBits must be an integer from 8 to 15, got 16/ })
  await t.rejects(async () => { await Fastify().register(websocket, { perMessageDeflate: { treshold: 10 } as object }) },
    { code: 'FST_WS_INVALID_OPTION', message: /perMessageDeflate\.treshold is not a permessage-deflate option/ })
  await t.rejects(async () => { await Fastify().register(websocket, { perMessageDeflate: 'yes' as unknown as boolean }) },
    { code: 'FST_WS_INVALID_OPTION' })
  await app.register(websocket)
  t.throws(() => app.get('/bad', { websocket: { perMessageDeflate: { zlibDeflateOptions: { windowBits: 9 } } as object } }, () => {}),
    { code: 'FST_WS_INVALID_OPTION', message: /windowBits cannot be set/ })
})

t.test('a ws client with compression on, both directions, text and binary, small and large', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { perMessageDeflate: true, maxMessageSize: 16 * 1024 * 1024 } })
  const client = await openWs(t, `${wsUrl}/echo`, undefined, { perMessageDeflate: true, maxPayload: 16 * 1024 * 1024 })
  t.equal(client.extensions, 'permessage-deflate')
  for (const size of [0, 1, 1023, 1024, 5000, 70_000, 1_500_000]) {
    const text = 'x'.repeat(size)
    client.send(text)
    const echoedText = await nextMessage(client, 10_000)
    t.equal(echoedText.data.toString(), text, `text ${size}`)
    t.equal(echoedText.isBinary, false)
    const binary = Buffer.alloc(size, size & 0xff)
    client.send(binary)
    const echoedBinary = await nextMessage(client, 10_000)
    t.ok(echoedBinary.data.equals(binary), `binary ${size}`)
    t.equal(echoedBinary.isBinary, true)
  }
})

t.test('our client and our server', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { perMessageDeflate: { serverMaxWindowBits: 10, clientNoContextTakeover: true } } })
  const client = await connect(`${wsUrl}/echo`, { perMessageDeflate: { serverMaxWindowBits: 10 } })
  t.teardown(() => client.terminate())
  t.equal(client.extensions, 'permessage-deflate; client_no_context_takeover; server_max_window_bits=10')
  const message = JSON.stringify({ items: Array.from({ length: 200 }, (_v, i) => ({ i, name: `item ${i}` })) })
  for (let i = 0; i < 3; i++) {
    const echoed = new Promise<Buffer>((resolve) => client.once('message', resolve))
    client.send(message)
    t.equal((await echoed).toString(), message)
  }
})

t.test('a client that did not offer it is served uncompressed by a server that has it on', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { perMessageDeflate: true } })
  const client = new WsClient(`${wsUrl}/echo`, { perMessageDeflate: false })
  t.teardown(() => client.terminate())
  await new Promise((resolve) => client.once('open', resolve))
  t.equal(client.extensions, '')
  client.send('x'.repeat(5000))
  const data = await new Promise<WsClient.RawData>((resolve) => client.once('message', resolve))
  t.equal(data.toString(), 'x'.repeat(5000))
})

t.test('our client fails the handshake on an extension answer it did not ask for (RFC 6455 §9.1)', async (t) => {
  const answers: Array<[string, object | undefined, RegExp]> = [
    ['permessage-deflate', undefined, /extension that was not offered/],
    ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 }, /server_max_window_bits=12 exceeds the 10 offered/],
    ['permessage-deflate', { serverNoContextTakeover: true }, /ignored the requested server_no_context_takeover/],
    ['x-other', {}, /x-other, which was not offered/],
    ['permessage-deflate; client_max_window_bits', {}, /client_max_window_bits must be an integer/]
  ]
  for (const [answer, option, reason] of answers) {
    const { url } = await startRawServer(t, { onConnection: (connection) => {
      void connection.request().then(() => connection.write(connection.switching([`Sec-WebSocket-Extensions: ${answer}`])))
    } })
    const error = await connect(url, option === undefined ? {} : { perMessageDeflate: option }).catch((e: unknown) => e)
    t.match(error, { name: 'WebSocketHandshakeError', message: reason }, `${answer} to ${JSON.stringify(option)}`)
  }
})
