// A user's plain JavaScript app and its tests, run by node (not typechecked: see tsconfig.json).
//
// An app written for @fastify/websocket that relies on its lifecycle: a custom
// `preClose(done)` with `this` the instance, an `errorHandler` that also classifies socket
// errors (a peer breaking the protocol), `websocketServer`'s `clients`, 'connection' event and
// `close(callback)`, and a second `upgrade` listener on the same server that answers one of
// the websocket paths first. test/migration runs it as it is and with only the import changed.
'use strict'

const { test } = require('node:test')
const assert = require('node:assert')
const { once } = require('node:events')
const http = require('node:http')
const Fastify = require('fastify')
const WebSocket = require('ws')
const websocket = require('@fastify/websocket')

function open (t, url, protocols, options) {
  const ws = new WebSocket(url, protocols, options)
  t.after(() => { ws.on('error', () => {}); ws.terminate() })
  return ws
}

function address (app) {
  return `ws://127.0.0.1:${app.server.address().port}`
}

test('preClose(done): this is the instance, sockets closed with a custom code, app.close() waits for done', { timeout: 10000 }, async (t) => {
  const app = Fastify()
  let self
  await app.register(websocket, {
    preClose (done) {
      self = this
      const server = this.websocketServer
      for (const socket of server.clients) socket.close(1001, 'WS server is going offline in custom manner')
      server.close(done)
    }
  })
  app.get('/', { websocket: true }, (socket) => {
    socket.once('message', () => socket.send('hello client'))
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const client = open(t, address(app))
  await once(client, 'open')
  client.send('hello server')
  const [data] = await once(client, 'message')
  assert.strictEqual(data.toString(), 'hello client')
  const closed = once(client, 'close')
  await app.close()
  assert.strictEqual(self, app)
  const [code, reason] = await closed
  assert.deepStrictEqual([code, reason.toString()], [1001, 'WS server is going offline in custom manner'])
})

test('errorHandler receives a peer\'s protocol error, with the request', { timeout: 10000 }, async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  let resolve
  const handled = new Promise((r) => { resolve = r })
  await app.register(websocket, {
    errorHandler (error, socket, request) {
      resolve({ code: error.code, ws: request.ws, self: this === app || this.websocketServer === app.websocketServer })
      socket.terminate()
    }
  })
  app.get('/', { websocket: true }, () => {})
  await app.listen({ port: 0, host: '127.0.0.1' })
  const client = open(t, address(app))
  await once(client, 'open')
  // RSV2 set on a pong frame: the server-side socket emits 'error'.
  client._socket.write(Buffer.from([0xa2, 0x00]))
  assert.deepStrictEqual(await handled, { code: 'WS_ERR_UNEXPECTED_RSV_2_3', ws: true, self: true })
})

test('errorHandler receives what an async handler throws', { timeout: 10000 }, async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  let resolve
  const handled = new Promise((r) => { resolve = r })
  await app.register(websocket, {
    errorHandler (error, socket) {
      resolve(error.message)
      socket.close(4500, 'handled')
    }
  })
  app.get('/', { websocket: true }, async () => { throw new Error('Fail') })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const client = open(t, address(app))
  assert.strictEqual(await handled, 'Fail')
  const [code, reason] = await once(client, 'close')
  assert.deepStrictEqual([code, reason.toString()], [4500, 'handled'])
})

test('websocketServer: connection event with the raw request, clients, close(callback)', { timeout: 10000 }, async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(websocket)
  const connections = []
  app.websocketServer.on('connection', (socket, request) => {
    connections.push(request.url)
    socket.send('welcome')
  })
  app.get('/room', { websocket: true }, () => {})
  await app.listen({ port: 0, host: '127.0.0.1' })
  const client = open(t, `${address(app)}/room?name=ada`)
  const [data] = await once(client, 'message')
  assert.strictEqual(data.toString(), 'welcome')
  assert.deepStrictEqual(connections, ['/room?name=ada'])
  assert.strictEqual(app.websocketServer.clients.size, 1)

  let closed = false
  const serverClosed = new Promise((resolve) => app.websocketServer.close(() => { closed = true; resolve() }))
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.strictEqual(closed, false, 'close() waits for the open socket')
  const refused = open(t, `${address(app)}/room`)
  const [, response] = await once(refused, 'unexpected-response')
  assert.strictEqual(response.statusCode, 503, 'no new connections')
  client.close()
  await serverClosed
})

test('a clashing upgrade listener answers first: the process survives and serves on', { timeout: 10000 }, async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  app.server.on('upgrade', (req, socket) => {
    if (!req.url.startsWith('/taken')) return
    const res = new http.ServerResponse(req)
    res.assignSocket(socket)
    res.end()
    socket.destroy()
  })
  await app.register(websocket)
  app.get('/taken', { websocket: true }, () => { assert.fail('this should never be invoked') })
  app.get('/free', { websocket: true }, (socket) => { socket.send('free') })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const taken = open(t, `${address(app)}/taken`)
  await once(taken, 'error')
  const free = open(t, `${address(app)}/free`)
  const [data] = await once(free, 'message')
  assert.strictEqual(data.toString(), 'free')
})
