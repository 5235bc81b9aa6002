/**
 * Observability (issue 14): each `node:diagnostics_channel` channel fires with its documented
 * payload, and `app.websocketServer.stats()` adds up to what the test did.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import t from 'tap'
import Fastify from 'fastify'
import websocket, { diagnosticsChannels, type WebSocket } from '../../src/index.js'
import { EVENTS, EventLog, deferred, sleep, until } from '../helpers/wait.js'

/**
 * The messages about server sockets (client sockets publish too, with no route), with the
 * socket replaced by whether it is `socket` (tap compares structure, not identity).
 */
function about (socket: WebSocket, messages: unknown[], servers: Set<WebSocket>): unknown[] {
  return messages.flatMap((message) => {
    const { socket: from, ...rest } = message as { socket?: WebSocket }
    if (from !== undefined && !servers.has(from)) return []
    return [from === undefined ? rest : { ...rest, ours: from === socket }]
  })
}

/** Records every message of every channel while the test runs. */
function listen (t: { teardown: (fn: () => unknown) => void }): Record<string, unknown[]> {
  const seen: Record<string, unknown[]> = {}
  for (const [key, channel] of Object.entries(diagnosticsChannels)) {
    seen[key] = []
    const onMessage = (message: unknown): void => { seen[key].push(message) }
    diagnosticsChannel.subscribe(channel.name, onMessage)
    t.teardown(() => diagnosticsChannel.unsubscribe(channel.name, onMessage))
  }
  return seen
}

t.test('channel names', async (t) => {
  t.same(Object.fromEntries(Object.entries(diagnosticsChannels).map(([key, channel]) => [key, channel.name])), {
    connectionOpened: 'fastify-websocket-native:connection:opened',
    connectionClosed: 'fastify-websocket-native:connection:closed',
    messageReceived: 'fastify-websocket-native:message:received',
    messageSent: 'fastify-websocket-native:message:sent',
    protocolError: 'fastify-websocket-native:protocol:error',
    backpressure: 'fastify-websocket-native:backpressure',
    handshakeRefused: 'fastify-websocket-native:handshake:refused'
  })
})

t.test('each channel fires with its payload, and stats() adds up', async (t) => {
  const seen = listen(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket, { maxMessageSize: 100, maxBufferedAmount: 1, backpressurePolicy: 'drop' })
  const server = deferred<WebSocket>()
  const servers = new Set<WebSocket>()
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization === 'no') await reply.code(401).send({ error: 'no' })
  })
  app.get<{ Params: { id: string } }>('/things/:id', { websocket: true }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
    servers.add(socket)
    server.resolve(socket)
  })
  app.get('/other', { websocket: true }, (socket) => { servers.add(socket) })

  const client = await app.injectWS('/things/1')
  const clientLog = new EventLog(client, EVENTS)
  const socket = await server.wait()
  client.send('hello')
  await clientLog.nth('message')
  client.send(Buffer.from([1, 2, 3]))
  await clientLog.nth('message', 2)
  const other = await app.injectWS('/other')

  t.same(about(socket, seen.connectionOpened, servers), [{ ours: true, route: '/things/:id', protocol: '', extensions: '' }, { ours: false, route: '/other', protocol: '', extensions: '' }])
  t.same(about(socket, seen.messageReceived, servers), [{ ours: true, size: 5, binary: false, compressed: false }, { ours: true, size: 3, binary: true, compressed: false }])
  t.same(about(socket, seen.messageSent, servers), [{ ours: true, size: 5, binary: false, compressed: false }, { ours: true, size: 3, binary: true, compressed: false }])

  let stats = app.websocketServer.stats()
  t.same(stats.connections, { total: 2, byRoute: { '/things/:id': 1, '/other': 1 } })
  t.match(stats, { messagesIn: 2, bytesIn: 8, messagesOut: 2, bytesOut: 8, closesByCode: {}, topics: 0, adapter: { adapter: 'memory', state: 'ready' } })

  // Backpressure: the queue is over 1 byte as soon as one send is pending in this tick.
  socket.send('a')
  t.equal(socket.send('b'), false)
  t.match(about(socket, seen.backpressure, servers), [{ ours: true, policy: 'drop' }])
  t.ok((seen.backpressure[0] as { bufferedAmount: number }).bufferedAmount >= 1)

  // A refused upgrade and a protocol error.
  const refused = await app.injectWS('/things/2', { headers: { authorization: 'no' } }).catch((error: unknown) => error)
  t.match(refused, { statusCode: 401 })
  t.match(seen.handshakeRefused, [{ status: 401, url: '/things/2' }])
  client.send('x'.repeat(101)) // over maxMessageSize
  await clientLog.nth('close', 1)
  t.same(about(socket, seen.protocolError, servers), [{ ours: true, code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009 }])
  await until(() => about(socket, seen.connectionClosed, servers).length === 1)
  t.match(about(socket, seen.connectionClosed, servers), [{ ours: true, route: '/things/:id', code: 1006, initiator: 'server' }])
  t.ok((seen.connectionClosed[0] as { durationMs: number }).durationMs >= 0)

  other.close(4000, 'bye')
  await until(() => about(socket, seen.connectionClosed, servers).length === 2)
  t.match(about(socket, seen.connectionClosed, servers)[1], { route: '/other', code: 4000, initiator: 'client' })

  stats = app.websocketServer.stats()
  t.same(stats.connections, { total: 0, byRoute: {} })
  t.same(stats.closesByCode, { 1006: 1, 4000: 1 })
  t.same(stats.refusedByStatus, { 401: 1 })
})

t.test('a socket we terminate is an abnormal close; one we close is the server\'s', async (t) => {
  const seen = listen(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket)
  const sockets: WebSocket[] = []
  app.get('/ws', { websocket: true }, (socket) => { sockets.push(socket) })
  await app.injectWS('/ws')
  await app.injectWS('/ws')
  await until(() => sockets.length === 2)
  sockets[0].terminate()
  sockets[1].close(1000)
  await until(() => (seen.connectionClosed as Array<{ route?: string }>).filter((m) => m.route !== undefined).length === 2)
  const byCode = Object.fromEntries((seen.connectionClosed as Array<{ code: number, initiator: string, route?: string }>).filter((m) => m.route !== undefined).map((m) => [String(m.code), m.initiator]))
  t.same(byCode, { 1006: 'abnormal', 1000: 'server' })
})

t.test('without subscribers nothing is built (the channels report no subscribers)', async (t) => {
  await sleep(0)
  for (const channel of Object.values(diagnosticsChannels)) t.equal(channel.hasSubscribers, false, String(channel.name))
})
