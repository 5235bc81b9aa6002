// `require('fastify-websocket-native')` from a CommonJS project that installed the packed tarball:
// the module is the plugin itself (@fastify/websocket's shape), registers on Fastify, and serves
// a WebSocket that `ws` talks to. Works on every Node 20, with or without require(esm).
import t from 'tap'
import { createProject, lastJsonLine, packageJson, packTarball, runNode, WITHOUT_REQUIRE_ESM } from './packed-project.js'

const app = `'use strict'
const Fastify = require('fastify')
const WsClient = require('ws')
const websocket = require('${packageJson.name}')

async function main () {
  const facts = {
    resolved: require.resolve('${packageJson.name}'),
    requireEsm: process.features.require_module === true,
    type: typeof websocket,
    defaultIsModule: websocket.default === websocket,
    namedIsModule: websocket.websocket === websocket,
    keys: Object.keys(websocket).sort(),
    errorName: new websocket.WebSocketProtocolError(websocket.ProtocolErrorCode.InvalidOpcode, 1002, 'x').name
  }
  const app = Fastify()
  // The classic CommonJS idiom of @fastify/websocket's README: no await, routes in a plugin.
  app.register(websocket)
  app.register(async function (app) {
    app.get('/echo', { websocket: true }, (socket) => {
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
    })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    const client = new WsClient('ws://127.0.0.1:' + app.server.address().port + '/echo')
    const received = []
    await new Promise((resolve, reject) => {
      client.on('error', reject)
      // The 64 KiB message goes through the large-buffer unmasking kernel (WebAssembly SIMD
      // from 128 B), which only the compiled CommonJS build runs here.
      const big = Buffer.alloc(65536, 7)
      client.on('open', () => { client.send('hello'); client.send(Buffer.from([1, 2, 3])); client.send(big) })
      client.on('message', (data, isBinary) => {
        received.push(data.length === big.length ? [isBinary, data.equals(big) ? 'the 64 KiB message, intact' : 'corrupted'] : [isBinary, isBinary ? [...data] : data.toString()])
        if (received.length === 3) client.close(1000, 'done')
      })
      client.on('close', (code) => { facts.closeCode = code; resolve() })
    })
    facts.received = received
  } finally {
    await app.close()
  }
  console.log(JSON.stringify(facts))
}
main().catch((error) => { console.error(error); process.exit(1) })
`

t.test('require() by name from a CommonJS project', async (t) => {
  const tarball = await packTarball(t)
  const dir = await createProject(t, tarball, { type: 'commonjs', files: { 'app.js': app }, link: ['ws'] })
  const result = await runNode('app.js', dir, WITHOUT_REQUIRE_ESM)
  t.equal(result.code, 0, 'exits 0', { stderr: result.stderr })
  const facts = lastJsonLine<Record<string, unknown>>(result)
  t.match(facts.resolved, /node_modules[\\/]fastify-websocket-native[\\/]dist[\\/]index\.cjs$/, 'resolved the tarball\'s CommonJS entry')
  // Where this Node could load ESM through require(), it was switched off, as on Node < 20.17.
  if (WITHOUT_REQUIRE_ESM.length > 0) t.equal(facts.requireEsm, false, 'ran without require(esm)')
  t.equal(facts.type, 'function', 'module.exports is the plugin function')
  t.equal(facts.defaultIsModule, true, '.default is the plugin too')
  t.equal(facts.namedIsModule, true, '.websocket is the plugin too')
  for (const name of ['connect', 'WebSocket', 'WebSocketProtocolError', 'WebSocketStateError', 'FastifyWebSocketConfigError', 'CloseCode', 'default']) {
    t.ok((facts.keys as string[]).includes(name), `module.exports.${name}`)
  }
  t.equal(facts.errorName, 'WebSocketProtocolError', 'classes work')
  t.same(facts.received, [[false, 'hello'], [true, [1, 2, 3]], [true, 'the 64 KiB message, intact']], 'text and binary echoed, small and large')
  t.equal(facts.closeCode, 1000, 'clean close')
})
