// The packed package's types, compiled as a user's code would be, with the strictest common
// settings and (for nodenext) skipLibCheck off, so our .d.ts files are checked too, not just
// resolved:
//   nodenext: a CommonJS TypeScript file (`import x = require()`), a CommonJS JavaScript file
//             (checkJs), and an ESM file, in one program: both entries' types load together;
//   bundler:  the ESM file under moduleResolution "bundler".
// attw checks that types resolve and match the JavaScript; this checks that what users write
// with them compiles, and that wrong code does not (`@ts-expect-error`).
import { join } from 'node:path'
import t from 'tap'
import { createProject, installedPackageDir, packageJson, packTarball, run } from './packed-project.js'

const name = packageJson.name

const assertions = `type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function assertType<T extends true> (_value?: T): void {}
`

// CommonJS TypeScript: @fastify/websocket's \`import x = require()\` shape, namespace types.
const cts = `import websocket = require('${name}')
import Fastify = require('fastify')
import type { WebSocket, WebSocketPluginOptions } from '${name}'
import type * as esm from '${name}' with { 'resolution-mode': 'import' }
${assertions}
const app = Fastify()
const options: WebSocketPluginOptions = { maxMessageSize: 1024 }
app.register(websocket, options)
app.register(websocket.default)
app.register(websocket.websocket, { closeTimeout: 1000 })
// @ts-expect-error maxMessageSize is a number
app.register(websocket, { maxMessageSize: '1' })
app.register(async (app) => {
  app.get('/ws', { websocket: true }, (socket, request) => {
    assertType<Equal<typeof socket, WebSocket>>()
    socket.send(request.url)
  })
})
const view: websocket.WebSocketServerView = app.websocketServer
void view
const error: unknown = new Error()
if (error instanceof websocket.WebSocketProtocolError) {
  assertType<Equal<typeof error.code, websocket.ProtocolErrorCode>>()
  const closeCode: number = error.closeCode
  void closeCode
}
// require and import see the same declarations.
assertType<Equal<websocket.WebSocketProtocolError, esm.WebSocketProtocolError>>()
assertType<Equal<typeof websocket.connect, typeof esm.connect>>()
assertType<Equal<Parameters<typeof websocket>, Parameters<typeof esm.default>>>()
export {}
`

// CommonJS JavaScript with checkJs, as an editor sees a plain \`require\`.
const cjs = `'use strict'
const Fastify = require('fastify')
const websocket = require('${name}')
const app = Fastify()
app.register(websocket, { maxMessageSize: 1024 })
// @ts-expect-error maxMessageSize is a number
app.register(websocket, { maxMessageSize: '1' })
/** @type {import('${name}').WebSocketRouteOptions} */
const routeOptions = { pingInterval: false }
app.register(async (app) => {
  app.get('/ws', { websocket: routeOptions }, (socket) => { socket.send('hello') })
})
websocket.connect('ws://127.0.0.1:1/').catch(() => {})
`

// ESM, for nodenext and bundler alike.
const esm = `import Fastify from 'fastify'
import websocket, { connect, websocket as named, WebSocketProtocolError, CloseCode, type WebSocket, type WebSocketPluginOptions } from '${name}'
${assertions}
const app = Fastify()
await app.register(websocket, { maxMessageSize: 1024 } satisfies WebSocketPluginOptions)
// @ts-expect-error maxMessageSize is a number
await app.register(websocket, { maxMessageSize: '1' })
app.get('/ws', { websocket: true }, (socket, request) => {
  assertType<Equal<typeof socket, WebSocket>>()
  socket.close(CloseCode.Normal, request.url)
})
assertType<Equal<typeof named, typeof websocket>>()
const client: WebSocket = await connect('ws://127.0.0.1:1/')
void client
const error: unknown = new Error()
if (error instanceof WebSocketProtocolError) {
  const closeCode: number = error.closeCode
  void closeCode
}
// @ts-expect-error not an export
import { notAnExport } from '${name}'
void notAnExport
`

const strict = {
  target: 'ES2022',
  strict: true,
  noEmit: true,
  skipLibCheck: false,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  exactOptionalPropertyTypes: true,
  types: ['node']
}
const configs = {
  'tsconfig.nodenext.json': { compilerOptions: { ...strict, module: 'nodenext', allowJs: true, checkJs: true }, files: ['consumer.cts', 'consumer.cjs', 'consumer.mts'] },
  // Our declaration files were checked by the program above (the same files: bundler only
  // resolves differently); skipping lib checks here halves this program's time.
  'tsconfig.bundler.json': { compilerOptions: { ...strict, module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true }, files: ['consumer.ts'] }
}

t.test('consumers type-check against the packed types', async (t) => {
  const tarball = await packTarball(t)
  const files: Record<string, string> = { 'consumer.cts': cts, 'consumer.cjs': cjs, 'consumer.mts': esm, 'consumer.ts': esm }
  for (const [file, config] of Object.entries(configs)) files[file] = JSON.stringify(config, null, 2)
  // A "module" project, so that consumer.ts is ESM in the bundler config as users' are.
  const dir = await createProject(t, tarball, { type: 'module', files, link: ['@types/node'] })
  const tsc = join(installedPackageDir('typescript'), 'bin', 'tsc')
  // Two programs, run side by side: each loads Fastify's and Node's types.
  const results = await Promise.all(Object.keys(configs).map(async (config) => [config, await run(process.execPath, [tsc, '-p', config, '--pretty', 'false'], dir)] as const))
  for (const [config, result] of results) {
    t.equal(result.code, 0, `${config}: no type errors`, { diagnostics: result.stdout + result.stderr })
  }
})
