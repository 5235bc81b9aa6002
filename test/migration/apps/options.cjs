// A user's plain JavaScript app and its tests, run by node (not typechecked: see tsconfig.json).
//
// An app written for @fastify/websocket that configures `ws` through `options`: maxPayload,
// handleProtocols, verifyClient (synchronous, and the callback form with a status, message
// and headers), autoPong and clientTracking. test/migration runs it as it is and with only the
// import changed.
'use strict'

const { test } = require('node:test')
const assert = require('node:assert')
const { once } = require('node:events')
const Fastify = require('fastify')
const WebSocket = require('ws')
const websocket = require('@fastify/websocket')

async function listen (t, options, routes) {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(websocket, { options })
  routes(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `ws://127.0.0.1:${app.server.address().port}` }
}

function echo (app) {
  app.get('/echo', { websocket: true }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
  })
}

function open (t, url, protocols, options) {
  const ws = new WebSocket(url, protocols, options)
  t.after(() => { ws.on('error', () => {}); ws.terminate() })
  return ws
}

test('maxPayload: a larger message closes with 1009, a smaller one is echoed', { timeout: 10000 }, async (t) => {
  const { url } = await listen(t, { maxPayload: 10 }, echo)
  const client = open(t, `${url}/echo`)
  await once(client, 'open')
  client.send('0123456789')
  const [data] = await once(client, 'message')
  assert.strictEqual(data.toString(), '0123456789')
  client.send('x'.repeat(100))
  const [code] = await once(client, 'close')
  assert.strictEqual(code, 1009)
})

test('handleProtocols: picks from a Set of the offers, with the request', { timeout: 10000 }, async (t) => {
  const seen = []
  const { url } = await listen(t, {
    handleProtocols (protocols, request) {
      seen.push([protocols instanceof Set, [...protocols], request.url])
      return protocols.has('v2') ? 'v2' : false
    }
  }, (app) => {
    app.get('/p', { websocket: true }, (socket) => { socket.send(socket.protocol) })
  })
  const client = open(t, `${url}/p?q=1`, ['v1', 'v2'])
  const [data] = await once(client, 'message')
  assert.strictEqual(client.protocol, 'v2')
  assert.strictEqual(data.toString(), 'v2')
  assert.deepStrictEqual(seen, [[true, ['v1', 'v2'], '/p?q=1']])
})

test('verifyClient (synchronous): false is a 401, true upgrades', { timeout: 10000 }, async (t) => {
  const { url } = await listen(t, {
    verifyClient (info) {
      return info.req.headers['x-fastify-header'] === 'fastify is awesome !'
    }
  }, echo)
  const refused = open(t, `${url}/echo`)
  const [error] = await once(refused, 'error')
  assert.strictEqual(error.message, 'Unexpected server response: 401')

  const accepted = open(t, `${url}/echo`, undefined, { headers: { 'x-fastify-header': 'fastify is awesome !' } })
  await once(accepted, 'open')
  accepted.send('hello')
  const [data] = await once(accepted, 'message')
  assert.strictEqual(data.toString(), 'hello')
})

test('verifyClient (callback): a refusal with its status and headers; info carries origin and secure', { timeout: 10000 }, async (t) => {
  const infos = []
  const { url } = await listen(t, {
    verifyClient (info, next) {
      infos.push({ origin: info.origin, secure: info.secure })
      if (info.req.headers.authorization === 'Bearer ok') return next(true)
      next(false, 403, 'Forbidden', { 'x-reason': 'no token' })
    }
  }, echo)
  const refused = open(t, `${url}/echo`, undefined, { origin: 'https://app.example' })
  const [, response] = await once(refused, 'unexpected-response')
  assert.strictEqual(response.statusCode, 403)
  assert.strictEqual(response.headers['x-reason'], 'no token')
  assert.deepStrictEqual(infos[0], { origin: 'https://app.example', secure: false })

  const accepted = open(t, `${url}/echo`, undefined, { headers: { authorization: 'Bearer ok' } })
  await once(accepted, 'open')
})

test('autoPong false: the server does not answer pings by itself', { timeout: 10000 }, async (t) => {
  const pinged = []
  const { url } = await listen(t, { autoPong: false }, (app) => {
    app.get('/quiet', { websocket: true }, (socket) => {
      socket.on('ping', (data) => {
        pinged.push(data.toString())
        socket.send('saw ' + data.toString())
      })
    })
  })
  const client = open(t, `${url}/quiet`)
  await once(client, 'open')
  let pongs = 0
  client.on('pong', () => { pongs++ })
  client.ping('are you there')
  const [data] = await once(client, 'message')
  assert.strictEqual(data.toString(), 'saw are you there')
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.strictEqual(pongs, 0)
  assert.deepStrictEqual(pinged, ['are you there'])
})

test('clientTracking (default): websocketServer.clients is the Set of open sockets', { timeout: 10000 }, async (t) => {
  const { app, url } = await listen(t, { clientTracking: true }, echo)
  const client = open(t, `${url}/echo`)
  await once(client, 'open')
  client.send('x')
  await once(client, 'message')
  assert.ok(app.websocketServer.clients instanceof Set)
  assert.strictEqual(app.websocketServer.clients.size, 1)
  for (const socket of app.websocketServer.clients) socket.close(1000, 'bye')
  const [code, reason] = await once(client, 'close')
  assert.deepStrictEqual([code, reason.toString()], [1000, 'bye'])
})

test('clientTracking false: the app still serves and shuts down', { timeout: 10000 }, async (t) => {
  const { url } = await listen(t, { clientTracking: false }, echo)
  const client = open(t, `${url}/echo`)
  await once(client, 'open')
  client.send('still works')
  const [data] = await once(client, 'message')
  assert.strictEqual(data.toString(), 'still works')
  client.close()
  await once(client, 'close')
})

test('an option ws knows but that needs the ws server itself is refused at register', { timeout: 10000 }, async () => {
  const app = Fastify()
  await assert.rejects(async () => { await app.register(websocket, { options: { noServer: true } }) }, /noServer/)
})
