// A user's plain JavaScript app and its tests, run by node (not typechecked: see tsconfig.json).
//
// An ESM app written for @fastify/websocket, tested the way its README teaches: `injectWS`
// with an upgrade context (headers for a preValidation hook) and the `onInit` / `onOpen`
// hooks, a refused upgrade, and @fastify/swagger documentation that leaves websocket routes
// out. test/migration runs it as it is and with only the import changed.
import { test } from 'node:test'
import assert from 'node:assert'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import FastifyWebSocket from '@fastify/websocket'

async function buildApp () {
  const app = Fastify()
  await app.register(swagger, { openapi: { info: { title: 'chat', version: '1.0.0' } } })
  await app.register(FastifyWebSocket)
  app.register(async function (fastify) {
    fastify.addHook('preValidation', async (request, reply) => {
      if (request.headers['api-key'] !== 'some-random-key') {
        return reply.code(401).send()
      }
    })
    fastify.get('/', { websocket: true }, (socket) => {
      socket.on('message', (message) => {
        socket.send('hi from server: ' + message.toString())
      })
    })
    fastify.route({
      method: 'GET',
      url: '/status',
      handler: async () => ({ ok: true }),
      wsHandler: (socket) => { socket.send('live status') }
    })
    fastify.get('/health', async () => 'ok')
  })
  return app
}

test('connect to / with injectWS, onInit and onOpen in order', { timeout: 10000 }, async (t) => {
  const app = await buildApp()
  t.after(() => app.close())
  await app.ready()
  const order = []
  let initWS
  const ws = await app.injectWS('/', { headers: { 'api-key': 'some-random-key' } }, {
    onInit (ws) { order.push('init'); initWS = ws },
    onOpen (ws) { order.push('open'); assert.strictEqual(ws, initWS) }
  })
  assert.deepStrictEqual(order, ['init', 'open'])
  assert.strictEqual(ws, initWS)
  const reply = new Promise((resolve) => ws.on('message', (data) => resolve(data.toString())))
  ws.send('hi from client')
  assert.strictEqual(await reply, 'hi from server: hi from client')
  ws.terminate()
})

test('a refused upgrade rejects injectWS with the status', { timeout: 10000 }, async (t) => {
  const app = await buildApp()
  t.after(() => app.close())
  await app.ready()
  await assert.rejects(app.injectWS('/'), (error) => {
    assert.match(error.message, /Unexpected server response: 401/)
    return true
  })
})

test('a route with a wsHandler serves both', { timeout: 10000 }, async (t) => {
  const app = await buildApp()
  t.after(() => app.close())
  await app.ready()
  const response = await app.inject({ url: '/status', headers: { 'api-key': 'some-random-key' } })
  assert.deepStrictEqual(response.json(), { ok: true })
  // The route sends as soon as it opens: listen from onInit, before any message can arrive.
  let message
  const received = new Promise((resolve) => { message = resolve })
  const ws = await app.injectWS('/status', { headers: { 'api-key': 'some-random-key' } }, {
    onInit (ws) { ws.once('message', (data) => message(data.toString())) }
  })
  assert.strictEqual(await received, 'live status')
  ws.terminate()
})

test('@fastify/swagger documents the HTTP routes and hides websocket-only ones', { timeout: 10000 }, async (t) => {
  const app = await buildApp()
  t.after(() => app.close())
  await app.ready()
  const paths = Object.keys(app.swagger().paths).sort()
  assert.deepStrictEqual(paths, ['/health', '/status'])
})
