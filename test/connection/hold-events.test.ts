/**
 * Held events (`holdEvents` / `releaseEvents()`), for handlers that attach listeners late, and
 * the `head` option: bytes that arrived with the upgrade request are the first frames.
 */
import t from 'tap'
import { createDuplexPair, WebSocket, createWebSocket, releaseEvents } from '../../src/connection/index.js'
import { EventLog, turn, until, WAIT, EVENTS } from '../helpers/wait.js'
import { ByteSink, openPair, openRaw } from '../helpers/pair.js'
import { pattern } from '../helpers/payloads.js'
import { OP, closeBody, clientFrame, parseFrames, serverFrame } from '../helpers/frames.js'

t.test('holdEvents: nothing is read before releaseEvents(), then everything in order, replies before the close echo', async (t) => {
  const closedWhileHeld: WebSocket[] = []
  const { server, client, serverEnd, clientEnd, serverLog, clientLog } = openPair(t, { holdEvents: true, onClosed: (s) => closedWhileHeld.push(s) })
  // What the server writes, frame by frame (the client itself, having sent its close, does not
  // deliver messages that arrive afterwards).
  const fromServer: Buffer[] = []
  clientEnd.on('data', (chunk: Buffer) => fromServer.push(chunk))
  client.send('first')
  client.send(Buffer.from([1, 2, 3]))
  client.ping('p')
  client.close(4000, 'bye')
  await until(() => client.bufferedAmount === 0)
  for (let i = 0; i < 5; i++) await turn()
  t.ok(serverEnd.isPaused(), 'the server does not read while held')
  t.same(serverLog.events, [], 'nothing emitted while held')
  t.equal(clientLog.count('pong'), 0, 'nothing was parsed, so no pong yet')
  t.equal(clientLog.count('close'), 0, 'nor a close echo')
  t.equal(server.readyState, WebSocket.OPEN)

  server.on('message', (data, isBinary) => server.send(data, { binary: isBinary }))
  releaseEvents(server)
  await serverLog.nth('close')
  t.same(serverLog.events.map((e) => e[0]), ['message', 'message', 'ping', 'close'], 'delivered in order')
  const [first, second, ping, close] = serverLog.events
  t.equal((first[1] as Buffer).toString(), 'first')
  t.equal(first[2], false)
  t.same([...(second[1] as Buffer)], [1, 2, 3])
  t.equal(second[2], true)
  t.equal((ping[1] as Buffer).toString(), 'p')
  t.equal(close[1], 4000)
  t.equal((close[2] as Buffer).toString(), 'bye')
  t.same(closedWhileHeld, [server])

  await clientLog.nth('close')
  t.same(parseFrames(Buffer.concat(fromServer)).frames.map((f) => f.opcode), [OP.TEXT, OP.BINARY, OP.PONG, OP.CLOSE], 'the replies went out before the close echo')
  t.same(clientLog.events.map((e) => e[0]), ['close'], 'a client that sent its close delivers no more messages')

  releaseEvents(server)
  await turn()
  t.equal(serverLog.events.length, 4, 'a second releaseEvents() delivers nothing twice')
})

t.test('holdEvents: after release, new events are emitted directly', async (t) => {
  const { server, client, serverLog } = openPair(t, { holdEvents: true })
  client.send('held')
  await until(() => client.bufferedAmount === 0)
  await turn()
  await turn()
  t.equal(serverLog.count('message'), 0)
  releaseEvents(server)
  const [held] = await serverLog.nth('message', 1) as [Buffer]
  t.equal(held.toString(), 'held')
  client.send('live')
  const [data] = await serverLog.nth('message', 2) as [Buffer]
  t.equal(data.toString(), 'live')
})

t.test('holdEvents: a reset while held is queued; onClosed is not held', async (t) => {
  const closed: WebSocket[] = []
  const { socket, peer, log } = openRaw(t, { holdEvents: true, onClosed: (s) => closed.push(s) })
  peer.destroy()
  await until(() => socket.readyState === WebSocket.CLOSED, WAIT, 'the transport to close')
  t.same(closed, [socket], 'the registry hook ran at once')
  t.same(log.events, [], 'the close event waits for the handler')
  releaseEvents(socket)
  t.same(log.events.map((e) => e[0]), ['close'])
  t.equal(log.events[0][1], 1006)
})

t.test('holdEvents: a protocol error is found after release, and delivered once', async (t) => {
  const { socket, peer, received, log } = openRaw(t, { holdEvents: true, closeTimeout: 100 })
  peer.on('end', () => peer.end())
  peer.write(serverFrame(OP.TEXT, 'not masked'))
  for (let i = 0; i < 5; i++) await turn()
  t.equal(received.frames.length, 0, 'nothing parsed while held')
  releaseEvents(socket)
  const frames = await received.waitFrames(1)
  t.equal(frames[0].closeCode, 1002, 'the close frame goes out')
  await until(() => socket.readyState === WebSocket.CLOSED, WAIT, 'the transport to close')
  t.same(log.events.map((e) => e[0]), ['error', 'close'])
  t.equal((log.events[0][1] as { closeCode: number }).closeCode, 1002)
  t.equal(log.events[1][1], 1006)
})

t.test('holdEvents: held data waits in the transport, not in our memory; release reads it', async (t) => {
  const { server, client, serverEnd, serverLog } = openPair(t, { holdEvents: true })
  const size = 600 * 1024
  client.send(pattern(size, 1))
  client.send(pattern(size, 2))
  client.send(pattern(size, 3))
  await until(() => client.bufferedAmount === 0)
  await turn()
  t.ok(serverEnd.isPaused(), 'not reading')
  t.equal(serverLog.count('message'), 0)
  releaseEvents(server)
  await serverLog.nth('message', 3)
  const messages = serverLog.of('message') as Array<[Buffer, boolean]>
  t.ok(messages[0][0].equals(pattern(size, 1)))
  t.ok(messages[1][0].equals(pattern(size, 2)))
  t.ok(messages[2][0].equals(pattern(size, 3)))
  t.equal(serverEnd.isPaused(), false)
})

t.test('head: bytes passed as head are the first frames, read once released', async (t) => {
  const [end, peer] = createDuplexPair()
  const received = new ByteSink(peer)
  const head = Buffer.concat([clientFrame(OP.TEXT, 'from head'), clientFrame(OP.PING, 'hp')])
  const socket = createWebSocket(end, { role: 'server', head, holdEvents: true })
  t.teardown(() => socket.terminate())
  const log = new EventLog(socket, EVENTS)
  peer.write(clientFrame(OP.BINARY, Buffer.from([7])))
  for (let i = 0; i < 5; i++) await turn()
  t.equal(received.frames.length, 0, 'no pong while held')
  releaseEvents(socket)
  await log.nth('message', 2)
  t.same(log.events.map((e) => e[0]), ['message', 'ping', 'message'])
  t.equal((log.events[0][1] as Buffer).toString(), 'from head', 'head comes first')
  t.same([...(log.events[2][1] as Buffer)], [7], 'then the stream')
  await until(() => received.frames.length >= 1, WAIT, 'the pong to the ping in head')
  t.equal(received.frames[0].opcode, OP.PONG)
  t.equal(received.frames[0].payload.toString(), 'hp')
})

t.test('head: a frame split between head and the stream is one message', async (t) => {
  const [end, peer] = createDuplexPair()
  const frame = clientFrame(OP.TEXT, 'split across head and stream')
  const socket = createWebSocket(end, { role: 'server', head: frame.subarray(0, 9) })
  t.teardown(() => socket.terminate())
  const log = new EventLog(socket, EVENTS)
  peer.write(frame.subarray(9))
  const [data] = await log.nth('message') as [Buffer]
  t.equal(data.toString(), 'split across head and stream')
})

t.test('head: without holdEvents, a listener attached right after the constructor gets head messages', async (t) => {
  const [end, peer] = createDuplexPair()
  peer.resume()
  const head = Buffer.concat([clientFrame(OP.TEXT, 'greeting'), clientFrame(OP.CLOSE, closeBody(4001, 'head close'))])
  const socket = createWebSocket(end, { role: 'server', head })
  t.teardown(() => socket.terminate())
  const log = new EventLog(socket, EVENTS)
  peer.on('end', () => peer.end())
  const [data] = await log.nth('message') as [Buffer]
  t.equal(data.toString(), 'greeting')
  const [code, reason] = await log.nth('close') as [number, Buffer]
  t.equal(code, 4001)
  t.equal(reason.toString(), 'head close')
  t.same(log.events.map((e) => e[0]), ['message', 'close'])
})

t.test('head: a bad frame in head fails the connection and reaches an error listener', async (t) => {
  const [end, peer] = createDuplexPair()
  const received = new ByteSink(peer)
  peer.on('end', () => peer.end())
  const socket = createWebSocket(end, { role: 'server', head: serverFrame(OP.TEXT, 'x'), closeTimeout: 100 })
  t.teardown(() => socket.terminate())
  const log = new EventLog(socket, EVENTS)
  const [error] = await log.nth('error') as [{ code: string }]
  t.equal(error.code, 'WS_ERR_EXPECTED_MASK')
  await log.nth('close')
  t.equal(received.frames[0]?.closeCode, 1002)
})

t.test('pause() and resume() stop and restart reading', async (t) => {
  const { server, client, serverLog } = openPair(t)
  server.pause()
  t.equal(server.isPaused, true)
  client.send('while paused')
  await turn()
  await turn()
  await turn()
  t.equal(serverLog.count('message'), 0, 'nothing read while paused')
  server.resume()
  t.equal(server.isPaused, false)
  const [data] = await serverLog.nth('message') as [Buffer]
  t.equal(data.toString(), 'while paused')
})
