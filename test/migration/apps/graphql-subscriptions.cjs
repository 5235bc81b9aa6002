// A user's plain JavaScript app and its tests, run by node (not typechecked: see tsconfig.json).
//
// A GraphQL-subscriptions-style app written for @fastify/websocket, in the way mercurius
// serves subscriptions: it speaks the graphql-transport-ws subprotocol and relies on `ws`
// choosing the client's first offer (no protocol option of its own), and it authenticates in
// `options.verifyClient`, as mercurius documents. The tests below are the app's own, with
// node:test. test/migration runs this file as it is and with only the import changed.
'use strict'

const { test } = require('node:test')
const assert = require('node:assert')
const { once } = require('node:events')
const Fastify = require('fastify')
const WebSocket = require('ws')
const websocket = require('@fastify/websocket')

const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws'

function buildApp () {
  const app = Fastify()
  app.register(websocket, {
    options: {
      maxPayload: 64 * 1024,
      verifyClient (info, next) {
        const token = new URL(info.req.url, 'http://localhost').searchParams.get('token') ?? info.req.headers.authorization
        // An async check, as a token lookup would be.
        setImmediate(() => next(token === 'secret'))
      }
    }
  })
  app.register(async function (app) {
    const subscribers = new Map() // topic -> Map<socket, id>

    app.get('/graphql', { websocket: true }, (socket) => {
      // graphql-ws servers refuse any other subprotocol with 4406.
      if (socket.protocol !== GRAPHQL_TRANSPORT_WS) {
        socket.close(4406, 'Subprotocol not acceptable')
        return
      }
      let acknowledged = false
      const mine = new Map() // id -> topic
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString())
        switch (message.type) {
          case 'connection_init':
            acknowledged = true
            socket.send(JSON.stringify({ type: 'connection_ack' }))
            break
          case 'subscribe': {
            if (!acknowledged) return socket.close(4401, 'Unauthorized')
            const topic = /subscription \{ (\w+) \}/.exec(message.payload.query)[1]
            if (!subscribers.has(topic)) subscribers.set(topic, new Map())
            subscribers.get(topic).set(socket, message.id)
            mine.set(message.id, topic)
            break
          }
          case 'complete':
            subscribers.get(mine.get(message.id))?.delete(socket)
            mine.delete(message.id)
            break
          case 'ping':
            socket.send(JSON.stringify({ type: 'pong' }))
            break
        }
      })
      socket.on('close', () => {
        for (const topic of mine.values()) subscribers.get(topic)?.delete(socket)
      })
    })

    app.post('/publish/:topic', async (request) => {
      let delivered = 0
      for (const [socket, id] of subscribers.get(request.params.topic) ?? []) {
        socket.send(JSON.stringify({ id, type: 'next', payload: { data: { [request.params.topic]: request.body } } }))
        delivered++
      }
      return { delivered }
    })
  })
  return app
}

async function listen (t) {
  const app = buildApp()
  t.after(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `ws://127.0.0.1:${app.server.address().port}`, http: `http://127.0.0.1:${app.server.address().port}` }
}

/** A client that queues every message, so none is missed between awaits. */
function connect (t, url, protocols, options) {
  const ws = new WebSocket(url, protocols, options)
  t.after(() => { ws.on('error', () => {}); ws.terminate() })
  const inbox = []
  const waiting = []
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString())
    const waiter = waiting.shift()
    if (waiter) waiter(message)
    else inbox.push(message)
  })
  ws.next = () => inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise((resolve) => waiting.push(resolve))
  return ws
}

test('subscribes over graphql-transport-ws and receives published events', { timeout: 10000 }, async (t) => {
  const { url, http } = await listen(t)
  const client = connect(t, `${url}/graphql?token=secret`, GRAPHQL_TRANSPORT_WS)
  await once(client, 'open')
  assert.strictEqual(client.protocol, GRAPHQL_TRANSPORT_WS)

  client.send(JSON.stringify({ type: 'connection_init', payload: {} }))
  assert.deepStrictEqual(await client.next(), { type: 'connection_ack' })
  client.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { onMessage }' } }))
  client.send(JSON.stringify({ type: 'ping' }))
  // The pong proves the subscribe before it was handled.
  assert.deepStrictEqual(await client.next(), { type: 'pong' })

  const response = await fetch(`${http}/publish/onMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello' }) })
  assert.deepStrictEqual(await response.json(), { delivered: 1 })
  assert.deepStrictEqual(await client.next(), { id: '1', type: 'next', payload: { data: { onMessage: { text: 'hello' } } } })

  client.send(JSON.stringify({ id: '1', type: 'complete' }))
  client.send(JSON.stringify({ type: 'ping' }))
  assert.deepStrictEqual(await client.next(), { type: 'pong' })
  const after = await fetch(`${http}/publish/onMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  assert.deepStrictEqual(await after.json(), { delivered: 0 })
})

test('a browser-style client offering two subprotocols gets the first one', { timeout: 10000 }, async (t) => {
  const { url } = await listen(t)
  const client = connect(t, `${url}/graphql`, [GRAPHQL_TRANSPORT_WS, 'graphql-ws'], { headers: { authorization: 'secret' } })
  await once(client, 'open')
  assert.strictEqual(client.protocol, GRAPHQL_TRANSPORT_WS)
  client.send(JSON.stringify({ type: 'connection_init' }))
  assert.deepStrictEqual(await client.next(), { type: 'connection_ack' })
})

test('a client without the token is refused with 401 before the upgrade', { timeout: 10000 }, async (t) => {
  const { url } = await listen(t)
  const client = new WebSocket(`${url}/graphql`, GRAPHQL_TRANSPORT_WS)
  const [error] = await once(client, 'error')
  assert.strictEqual(error.message, 'Unexpected server response: 401')
})

test('a client that offers only the legacy subprotocol is closed with 4406', { timeout: 10000 }, async (t) => {
  const { url } = await listen(t)
  const client = connect(t, `${url}/graphql?token=secret`, 'graphql-ws')
  await once(client, 'open')
  assert.strictEqual(client.protocol, 'graphql-ws', 'the first offer was selected')
  const [code, reason] = await once(client, 'close')
  assert.strictEqual(code, 4406)
  assert.strictEqual(reason.toString(), 'Subprotocol not acceptable')
})

test('a message over maxPayload closes the connection with 1009', { timeout: 10000 }, async (t) => {
  const { url } = await listen(t)
  const client = connect(t, `${url}/graphql?token=secret`, GRAPHQL_TRANSPORT_WS)
  await once(client, 'open')
  client.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(64 * 1024) } }))
  const [code] = await once(client, 'close')
  assert.strictEqual(code, 1009)
})
