// `import websocket, { connect, ... } from 'fastify-websocket-native'` from an ESM project that
// installed the packed tarball: the default export registers on Fastify, and the package's own
// `connect` (a named export) talks to it; `ws` checks it independently.
import t from 'tap'
import { createProject, lastJsonLine, packageJson, packTarball, runNode, WITHOUT_REQUIRE_ESM } from './packed-project.js'

const app = `import Fastify from 'fastify'
import WsClient from 'ws'
import websocket, { connect, websocket as named, WebSocketProtocolError, CloseCode } from '${packageJson.name}'
import * as namespace from '${packageJson.name}'

const facts = {
  resolved: typeof import.meta.resolve === 'function' ? import.meta.resolve('${packageJson.name}') : null,
  type: typeof websocket,
  namedIsDefault: named === websocket,
  namespaceKeys: Object.keys(namespace).sort(),
  errorName: new WebSocketProtocolError('WS_ERR_INVALID_OPCODE', 1002, 'x').name
}
const app = Fastify()
await app.register(websocket)
app.get('/echo', { websocket: true }, (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
})
await app.listen({ port: 0, host: '127.0.0.1' })
try {
  const url = 'ws://127.0.0.1:' + app.server.address().port + '/echo'
  // The package's own client.
  const socket = await connect(url)
  const own = []
  await new Promise((resolve) => {
    socket.on('message', (data, isBinary) => {
      own.push([isBinary, isBinary ? [...data] : data.toString()])
      if (own.length === 2) socket.close(CloseCode.Normal)
    })
    socket.on('close', (code) => { facts.ownCloseCode = code; resolve() })
    socket.send('hello')
    socket.send(Buffer.from([1, 2, 3]))
  })
  facts.ownReceived = own
  // An independent client.
  const client = new WsClient(url)
  facts.wsReceived = await new Promise((resolve, reject) => {
    client.on('error', reject)
    client.on('open', () => client.send('from ws'))
    client.on('message', (data) => { client.close(); resolve(data.toString()) })
  })
} finally {
  await app.close()
}
console.log(JSON.stringify(facts))
`

t.test('import by name from an ESM project', async (t) => {
  const tarball = await packTarball(t)
  const dir = await createProject(t, tarball, { type: 'module', files: { 'app.js': app }, link: ['ws'] })
  const result = await runNode('app.js', dir, WITHOUT_REQUIRE_ESM)
  t.equal(result.code, 0, 'exits 0', { stderr: result.stderr })
  const facts = lastJsonLine<Record<string, unknown>>(result)
  if (facts.resolved !== null) {
    t.match(facts.resolved, /node_modules\/fastify-websocket-native\/dist\/index\.mjs$/, 'resolved the tarball\'s ESM entry')
  }
  t.equal(facts.type, 'function', 'the default export is the plugin')
  t.equal(facts.namedIsDefault, true, 'the named `websocket` is the same plugin')
  for (const name of ['connect', 'WebSocket', 'WebSocketProtocolError', 'WebSocketStateError', 'FastifyWebSocketConfigError', 'CloseCode', 'default', 'websocket']) {
    t.ok((facts.namespaceKeys as string[]).includes(name), `export ${name}`)
  }
  t.equal(facts.errorName, 'WebSocketProtocolError', 'classes work')
  t.same(facts.ownReceived, [[false, 'hello'], [true, [1, 2, 3]]], 'text and binary echoed to our own client')
  t.equal(facts.ownCloseCode, 1000, 'clean close')
  t.equal(facts.wsReceived, 'from ws', 'echoed to ws')
})
