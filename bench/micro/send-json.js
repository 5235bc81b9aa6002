// sendJSON's serialisation (issue 13): a route's compiled `sendSchema` against JSON.stringify.
// `npm run build && node bench/micro/send-json.js`
//
// Two levels, for three messages (the chat's `said`, a 20-item list, a flat record):
// - the serializer alone: `JSON.stringify(value)` against the function Fastify's default
//   serializer compiler (fast-json-stringify, what `sendSchema` is compiled with) makes;
// - the whole call on a server socket: `socket.sendJSON(value)` on a route with a `sendSchema`
//   against one without (which uses JSON.stringify), framing and writing included (into an
//   in-memory stream whose other end discards what it reads).
import Fastify from 'fastify'
import { createRequire } from 'node:module'
import websocket from '../../dist/index.mjs'

const require = createRequire(import.meta.url)
// What Fastify builds its default serializer compiler from (a selector that makes compilers).
const SerializerSelector = require('@fastify/fast-json-stringify-compiler')
const compile = SerializerSelector()({})
let sink = 0

function measure (fn, ms = 300) {
  const warmEnd = performance.now() + 100
  while (performance.now() < warmEnd) fn()
  let ops = 0
  const start = performance.now()
  while (performance.now() - start < ms) {
    for (let i = 0; i < 100; i++) fn()
    ops += 100
  }
  return (performance.now() - start) * 1e6 / ops
}

const str = { type: 'string' }
const num = { type: 'number' }
const CASES = [
  {
    name: "chat 'said' (4 strings)",
    schema: { type: 'object', properties: { type: str, from: str, text: str, at: str }, required: ['type', 'from', 'text', 'at'] },
    value: { type: 'said', from: 'alice', text: 'héllo, this is a chat line of ordinary length ✓', at: '2026-12-01T15:59:20.185Z' }
  },
  {
    name: 'list of 20 { id, name, score }',
    schema: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, name: str, score: num } } } } },
    value: { items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `player-${i}`, score: i * 1.5 })) }
  },
  {
    name: 'flat record, 12 fields',
    schema: { type: 'object', properties: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`field${i}`, i % 2 === 0 ? str : num])) },
    value: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`field${i}`, i % 2 === 0 ? `value ${i}` : i * 1000.25]))
  }
]

process.stdout.write('| message | JSON.stringify | compiled sendSchema | sendJSON, no schema | sendJSON, sendSchema |\n| --- | ---: | ---: | ---: | ---: |\n')
for (const { name, schema, value } of CASES) {
  const serialize = compile({ schema })
  if (serialize(value) !== JSON.stringify(value)) throw new Error(`${name}: the compiled serializer disagrees with JSON.stringify`)
  const plain = measure(() => { sink += JSON.stringify(value).length })
  const compiled = measure(() => { sink += serialize(value).length })

  const app = Fastify({ logger: false })
  await app.register(websocket)
  const sockets = {}
  app.get('/plain', { websocket: true }, (socket) => { sockets.plain = socket })
  app.get('/typed', { websocket: true, sendSchema: schema }, (socket) => { sockets.typed = socket })
  await app.ready()
  const clients = [await app.injectWS('/plain'), await app.injectWS('/typed')]
  for (const client of clients) client.on('message', () => {})
  // Each measured call is followed by yielding now and then, so the writes are flushed and read.
  const throughSocket = async (socket) => {
    let total = 0
    let ops = 0
    for (let round = 0; round < 40; round++) {
      const start = performance.now()
      for (let i = 0; i < 500; i++) socket.sendJSON(value)
      total += performance.now() - start
      ops += 500
      await new Promise((resolve) => setImmediate(resolve))
    }
    return total * 1e6 / ops
  }
  await throughSocket(sockets.plain) // warm-up
  await throughSocket(sockets.typed)
  const viaPlain = await throughSocket(sockets.plain)
  const viaTyped = await throughSocket(sockets.typed)
  for (const client of clients) client.terminate()
  await app.close()
  const ns = (value) => `${value.toFixed(0)} ns`
  process.stdout.write(`| ${name} | ${ns(plain)} | ${ns(compiled)} (${(plain / compiled).toFixed(1)}×) | ${ns(viaPlain)} | ${ns(viaTyped)} |\n`)
}
if (sink === 0) process.stdout.write('\n')
