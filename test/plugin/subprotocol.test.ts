/**
 * Subprotocol selection (RFC 6455 §4.2.2 step 5.4 /subprotocol/): plugin option as a list
 * (server preference order) or a function, route-level override, the default without the option
 * (the client's first offer, as ws selects it), and what goes on the wire.
 */
import t from 'tap'
import type { FastifyRequest } from 'fastify'
import { buildApp, openWs } from '../helpers/app.js'
import { deferred } from '../helpers/wait.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'

t.test('plugin protocols list: the server preference wins among the offers', async (t) => {
  const serverProtocols: string[] = []
  const { wsUrl } = await buildApp(t, {
    plugin: { protocols: ['b', 'a'] },
    setup (app) {
      app.get('/p', { websocket: true }, (socket) => {
        serverProtocols.push(socket.protocol)
        socket.send(socket.protocol)
      })
    }
  })

  const both = await openWs(t, `${wsUrl}/p`, ['a', 'b'])
  t.equal(both.protocol, 'b', 'client offered a then b; the server prefers b')

  const onlyA = await openWs(t, `${wsUrl}/p`, ['x', 'a'])
  t.equal(onlyA.protocol, 'a')

  const none = await openWs(t, `${wsUrl}/p`)
  t.equal(none.protocol, '', 'no offer, no subprotocol')
  t.same(serverProtocols, ['b', 'a', ''], 'socket.protocol matches what was negotiated')
})

t.test('no common subprotocol: the 101 carries no Sec-WebSocket-Protocol', async (t) => {
  const serverProtocol = deferred<string>()
  const { port } = await buildApp(t, {
    plugin: { protocols: ['b', 'a'] },
    setup (app) {
      app.get('/p', { websocket: true }, (socket) => serverProtocol.resolve(socket.protocol))
    }
  })
  const { client, response } = await RawClient.open(port, '/p', { headers: { 'Sec-WebSocket-Protocol': 'c, d' } })
  t.teardown(() => client.destroy())
  t.equal(response.statusCode, 101)
  t.equal(response.headers['sec-websocket-protocol'], undefined)
  t.equal(await serverProtocol.wait(), '')
})

t.test('subprotocol offers split over repeated headers are one list', async (t) => {
  const { port } = await buildApp(t, {
    plugin: { protocols: ['second'] },
    setup (app) {
      app.get('/p', { websocket: true }, () => {})
    }
  })
  const { client, response } = await RawClient.open(port, '/p', {
    headers: { 'Sec-WebSocket-Protocol': 'first' },
    extraLines: ['Sec-WebSocket-Protocol: second']
  })
  t.teardown(() => client.destroy())
  t.equal(response.headers['sec-websocket-protocol'], 'second')
})

t.test('a malformed Sec-WebSocket-Protocol gets 400', async (t) => {
  const { port } = await buildApp(t, { plugin: { protocols: ['a'] } })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/echo', headers: { 'Sec-WebSocket-Protocol': 'a b' } }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 400)
  await client.waitClosed()
})

t.test('plugin protocols function: gets the offers in order and the request', async (t) => {
  const calls: Array<{ offered: string[], url: string }> = []
  const { wsUrl } = await buildApp(t, {
    plugin: {
      protocols (offered: string[], request: FastifyRequest) {
        calls.push({ offered: [...offered], url: request.url })
        const wanted = (request.query as { v?: string }).v
        return offered.find((p) => p === wanted) ?? false
      }
    },
    setup (app) {
      app.get('/f', { websocket: true }, (socket) => { socket.send(socket.protocol) })
    }
  })
  const picked = await openWs(t, `${wsUrl}/f?v=chat.v2`, ['chat.v1', 'chat.v2'])
  t.equal(picked.protocol, 'chat.v2')
  t.same(calls[0], { offered: ['chat.v1', 'chat.v2'], url: '/f?v=chat.v2' })

  const { client, response } = await RawClient.open(wsUrl, '/f?v=nope', { headers: { 'Sec-WebSocket-Protocol': 'chat.v1' } })
  t.teardown(() => client.destroy())
  t.equal(response.headers['sec-websocket-protocol'], undefined, 'returning false selects none')
})

t.test('a protocols function that picks an unoffered protocol fails the handshake with 500', async (t) => {
  let handlerCalled = false
  const { port } = await buildApp(t, {
    plugin: { protocols: () => 'not-offered' },
    setup (app) {
      app.get('/bad', { websocket: true }, () => { handlerCalled = true })
    }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/bad', headers: { 'Sec-WebSocket-Protocol': 'a' } }))
  const response = await client.readResponse()
  t.equal(response.statusCode, 500)
  await client.waitClosed()
  t.equal(handlerCalled, false)
})

t.test('route-level protocols override the plugin option', async (t) => {
  const { wsUrl } = await buildApp(t, {
    plugin: { protocols: ['b', 'a'] },
    setup (app) {
      app.get('/route', { websocket: { protocols: ['c', 'a'] } }, () => {})
      app.get('/plugin', { websocket: true }, () => {})
    }
  })
  const route = await openWs(t, `${wsUrl}/route`, ['a', 'b', 'c'])
  t.equal(route.protocol, 'c', 'the route list applies, not the plugin list')
  const plugin = await openWs(t, `${wsUrl}/plugin`, ['a', 'b', 'c'])
  t.equal(plugin.protocol, 'b', 'other routes keep the plugin list')
})

t.test('socket.protocol is exposed to the handler as the selected value', async (t) => {
  const serverProtocol = deferred<string>()
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/r', { websocket: { protocols: ['graphql-ws'] } }, (socket) => serverProtocol.resolve(socket.protocol))
    }
  })
  const client = await openWs(t, `${wsUrl}/r`, 'graphql-ws')
  t.equal(client.protocol, 'graphql-ws')
  t.equal(await serverProtocol.wait(), 'graphql-ws')
})

t.test('no protocols option: the first protocol the client offered is selected, as ws does', async (t) => {
  const serverProtocol = deferred<string>()
  const { wsUrl, port } = await buildApp(t, {
    setup (app) {
      app.get('/graphql', { websocket: true }, (socket) => serverProtocol.resolve(socket.protocol))
    }
  })
  // A ws client that offers subprotocols fails ("Server sent no subprotocol") when none is
  // selected, as browsers do: before issue 10 this connection failed.
  const client = await openWs(t, `${wsUrl}/graphql`, ['graphql-transport-ws', 'graphql-ws'])
  t.equal(client.protocol, 'graphql-transport-ws')
  t.equal(await serverProtocol.wait(), 'graphql-transport-ws')

  const { client: raw, response } = await RawClient.open(port, '/echo', { headers: { 'Sec-WebSocket-Protocol': 'b, a' } })
  t.teardown(() => raw.destroy())
  t.equal(response.headers['sec-websocket-protocol'], 'b', 'the first offer, in the client\'s order')
})

t.test('no protocols option and no offer: no subprotocol', async (t) => {
  const { port } = await buildApp(t)
  const { client, response } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  t.equal(response.headers['sec-websocket-protocol'], undefined)
})

t.test('protocols: [] is strict: no subprotocol is ever selected', async (t) => {
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/strict', { websocket: { protocols: [] } }, () => {})
    }
  })
  const { client, response } = await RawClient.open(port, '/strict', { headers: { 'Sec-WebSocket-Protocol': 'chat' } })
  t.teardown(() => client.destroy())
  t.equal(response.headers['sec-websocket-protocol'], undefined)
})
