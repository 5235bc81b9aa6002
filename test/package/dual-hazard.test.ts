// The dual-package hazard: an app whose CommonJS parts `require` the package and whose ESM
// parts `import` it must see one plugin and one set of classes. The `import` entry is a thin
// wrapper over the CommonJS build, so both names lead to the same objects; this proves it on the
// packed tarball, in one process: the plugin loaded by `require` throws and emits errors that are
// `instanceof` the classes loaded by `import` (and the other way round).
import t from 'tap'
import { createProject, lastJsonLine, packageJson, packTarball, runNode, WITHOUT_REQUIRE_ESM } from './packed-project.js'

const script = `import { createRequire } from 'node:module'
import Fastify from 'fastify'
import WsClient from 'ws'
import * as esm from '${packageJson.name}'

const require = createRequire(import.meta.url)
const cjs = require('${packageJson.name}')

const facts = {
  sameDefault: esm.default === cjs,
  // Every named export of the ESM entry is the very object of the CommonJS entry.
  differing: Object.keys(esm).filter((name) => esm[name] !== cjs[name]),
  // And the ESM entry leaves out nothing the CommonJS one exports (fastify-plugin's own
  // camel-cased alias of the plugin aside).
  missingFromEsm: Object.keys(cjs).filter((name) => name !== 'fastifyWebsocketNative' && !(name in esm))
}

// Register time: the plugin loaded by require rejects a bad option with the error class
// loaded by import, and the other way round.
async function configError (plugin) {
  const app = Fastify()
  try {
    await app.register(plugin, { maxMessageSize: 'big' })
    return 'no error'
  } catch (error) {
    return error
  } finally {
    await app.close()
  }
}
const fromRequire = await configError(cjs)
facts.configErrorInstanceofImported = fromRequire instanceof esm.FastifyWebSocketConfigError
facts.configErrorCode = fromRequire.code
const fromImport = await configError(esm.default)
facts.configErrorInstanceofRequired = fromImport instanceof cjs.FastifyWebSocketConfigError

// Run time: a peer's protocol violation reaches the handler as a WebSocketProtocolError that
// is instanceof the class loaded by import.
const app = Fastify()
app.register(cjs)
app.register(async (app) => {
  app.get('/ws', { websocket: true }, (socket) => {
    socket.on('error', (error) => {
      facts.protocolErrorInstanceofImported = error instanceof esm.WebSocketProtocolError
      facts.protocolErrorCode = error.code
      facts.protocolErrorCloseCode = error.closeCode
    })
  })
})
await app.listen({ port: 0, host: '127.0.0.1' })
try {
  const client = new WsClient('ws://127.0.0.1:' + app.server.address().port + '/ws')
  facts.clientCloseCode = await new Promise((resolve, reject) => {
    client.on('error', reject)
    // Invalid UTF-8 in a text frame (ws does not check what it sends): the server fails the
    // connection with 1007.
    client.on('open', () => client.send(Buffer.from([0xff, 0xfe]), { binary: false }))
    client.on('close', (code) => resolve(code))
  })
} finally {
  await app.close()
}
console.log(JSON.stringify(facts))
`

t.test('require and import share one implementation', async (t) => {
  const tarball = await packTarball(t)
  const dir = await createProject(t, tarball, { type: 'module', files: { 'hazard.js': script }, link: ['ws'] })
  const result = await runNode('hazard.js', dir, WITHOUT_REQUIRE_ESM)
  t.equal(result.code, 0, 'exits 0', { stderr: result.stderr })
  const facts = lastJsonLine<Record<string, unknown>>(result)
  t.equal(facts.sameDefault, true, 'the imported default is the required plugin')
  t.same(facts.differing, [], 'every named export is the same object both ways')
  t.same(facts.missingFromEsm, [], 'import offers everything require does')
  t.equal(facts.configErrorCode, 'FST_WS_INVALID_OPTION', 'the required plugin rejects a bad option')
  t.equal(facts.configErrorInstanceofImported, true, 'its error is instanceof the imported FastifyWebSocketConfigError')
  t.equal(facts.configErrorInstanceofRequired, true, 'and the imported plugin\'s is instanceof the required class')
  t.equal(facts.protocolErrorCode, 'WS_ERR_INVALID_UTF8', 'the required plugin reports the peer\'s invalid UTF-8')
  t.equal(facts.protocolErrorCloseCode, 1007, 'with close code 1007')
  t.equal(facts.protocolErrorInstanceofImported, true, 'as an instanceof the imported WebSocketProtocolError')
  t.equal(facts.clientCloseCode, 1007, 'the client saw 1007')
})
