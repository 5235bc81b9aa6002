/**
 * The closing handshake over an in-memory pair (RFC 6455 §5.5.1, §7): codes and reasons both
 * ways, 'close' exactly once, readyState, caller errors, the close timeout, terminate(), and a
 * peer that leaves without a close frame.
 */
import t from 'tap'
import { WebSocket, createWebSocket } from '../../src/connection/index.js'
import { once, turn, until, WAIT } from '../helpers/wait.js'
import { SwallowingDuplex, openPair, openRaw } from '../helpers/pair.js'
import { OP, closeBody, clientFrame, parseFrames } from '../helpers/frames.js'

t.test('close(code, reason) from the client: both ends get one close event', async (t) => {
  const { server, client, serverLog, clientLog } = openPair(t)
  client.close(4000, 'client is done')
  const [serverCode, serverReason] = await serverLog.nth('close') as [number, Buffer]
  t.equal(serverCode, 4000)
  t.ok(Buffer.isBuffer(serverReason), 'the reason is a Buffer')
  t.equal(serverReason.toString(), 'client is done')
  const [clientCode, clientReason] = await clientLog.nth('close') as [number, Buffer]
  t.equal(clientCode, 4000, 'the initiator sees the code of the echoed close frame')
  t.ok(Buffer.isBuffer(clientReason))
  await turn()
  await turn()
  t.equal(serverLog.count('close'), 1, "'close' once on the server")
  t.equal(clientLog.count('close'), 1, "'close' once on the client")
  t.equal(server.readyState, WebSocket.CLOSED)
  t.equal(client.readyState, WebSocket.CLOSED)
  t.equal(serverLog.count('error') + clientLog.count('error'), 0)
})

t.test('close(code, reason) from the server, with a multi-byte reason Buffer', async (t) => {
  const { server, clientLog, serverLog } = openPair(t)
  server.close(1001, Buffer.from('au revoir — ÿ'))
  const [code, reason] = await clientLog.nth('close') as [number, Buffer]
  t.equal(code, 1001)
  t.equal(reason.toString(), 'au revoir — ÿ')
  const [serverCode] = await serverLog.nth('close') as [number, Buffer]
  t.equal(serverCode, 1001)
})

t.test('close codes that may be sent reach the peer unchanged', async (t) => {
  for (const code of [1000, 1002, 1003, 1007, 1011, 1014, 3000, 4999]) {
    const { server, clientLog } = openPair(t)
    server.close(code, `code ${code}`)
    const [received, reason] = await clientLog.nth('close') as [number, Buffer]
    t.equal(received, code, `code ${code}`)
    t.equal(reason.toString(), `code ${code}`)
  }
})

t.test('a 123-byte reason is accepted', async (t) => {
  const { client, serverLog } = openPair(t)
  const reason = 'r'.repeat(123)
  client.close(1000, reason)
  const [, received] = await serverLog.nth('close') as [number, Buffer]
  t.equal(received.toString(), reason)
})

t.test('close() with no code: the peer sees 1005 and an empty reason', async (t) => {
  const { server, client, serverLog, clientLog } = openPair(t)
  client.close()
  const [code, reason] = await serverLog.nth('close') as [number, Buffer]
  t.equal(code, 1005)
  t.equal(reason.length, 0)
  const [clientCode] = await clientLog.nth('close') as [number, Buffer]
  t.equal(clientCode, 1005, 'the echo carries no code either')
  t.equal(server.readyState, WebSocket.CLOSED)
})

t.test('the close frame on the wire, and the echo of a peer-initiated close', async (t) => {
  const { socket, peer, received, log } = openRaw(t)
  peer.write(clientFrame(OP.CLOSE, closeBody(4321, 'bye')))
  const [echo] = await received.waitFrames(1)
  t.equal(echo.opcode, OP.CLOSE)
  t.equal(echo.closeCode, 4321, 'the echo repeats the status code (§5.5.1)')
  t.equal(echo.masked, false)
  t.equal(socket.readyState, WebSocket.CLOSING, 'CLOSING until the transport closes')
  // The server closes TCP first after the handshake (§7.1.1): the peer sees EOF.
  await until(() => received.ended, WAIT, 'EOF from the server')
  peer.end()
  const [code, reason] = await log.nth('close') as [number, Buffer]
  t.equal(code, 4321)
  t.equal(reason.toString(), 'bye')
})

t.test('invalid close arguments throw RangeError and change nothing', async (t) => {
  const { client, server, serverLog } = openPair(t)
  t.throws(() => client.close(1005), RangeError, '1005 is never sent')
  t.throws(() => client.close(1006), RangeError, '1006 is never sent')
  t.throws(() => client.close(1015), RangeError, '1015 is never sent')
  t.throws(() => client.close(999), RangeError, 'below 1000')
  t.throws(() => client.close(1004), RangeError, 'reserved')
  t.throws(() => client.close(2999), RangeError, 'unassigned')
  t.throws(() => client.close(5000), RangeError, 'above 4999')
  t.throws(() => client.close(1000.5), RangeError, 'not an integer')
  t.throws(() => client.close(1000, 'r'.repeat(124)), RangeError, 'a 124-byte reason')
  t.throws(() => client.close(1000, 'é'.repeat(62)), RangeError, '124 bytes of UTF-8 in 62 characters')
  t.throws(() => client.close(1000, Buffer.alloc(124)), RangeError, 'a 124-byte reason Buffer')
  t.equal(client.readyState, WebSocket.OPEN, 'still open after the throws')
  client.send('still works')
  const [data] = await serverLog.nth('message') as [Buffer]
  t.equal(data.toString(), 'still works')
  t.equal(server.readyState, WebSocket.OPEN)
})

t.test('readyState goes OPEN -> CLOSING -> CLOSED on both ends', async (t) => {
  const { server, client, serverLog, clientLog } = openPair(t)
  t.equal(client.readyState, WebSocket.OPEN)
  t.equal(server.readyState, WebSocket.OPEN)
  t.equal(WebSocket.OPEN, 1)
  t.equal(client.CLOSING, 2)
  const serverStates: number[] = []
  server.once('message', () => serverStates.push(server.readyState))
  client.send('hi')
  client.close(1000)
  t.equal(client.readyState, WebSocket.CLOSING, 'CLOSING right after close()')
  await serverLog.nth('close')
  t.same(serverStates, [WebSocket.OPEN], 'a message before the close frame is seen while OPEN')
  t.equal(server.readyState, WebSocket.CLOSED, "CLOSED when 'close' is emitted")
  await clientLog.nth('close')
  t.equal(client.readyState, WebSocket.CLOSED)
})

t.test('calling close() again, or after CLOSED, is a no-op', async (t) => {
  const { client, serverLog, clientLog, clientEnd } = openPair(t)
  const written: Buffer[] = []
  const write = clientEnd.write.bind(clientEnd)
  clientEnd.write = ((chunk: Buffer, ...rest: never[]) => {
    written.push(Buffer.from(chunk))
    return write(chunk, ...rest)
  }) as typeof clientEnd.write
  client.close(1000, 'first')
  client.close(4000, 'second')
  await clientLog.nth('close')
  client.close(1000)
  await turn()
  const frames = parseFrames(Buffer.concat(written)).frames
  t.equal(frames.filter((f) => f.opcode === OP.CLOSE).length, 1, 'one close frame was sent')
  const [code, reason] = await serverLog.nth('close') as [number, Buffer]
  t.equal(code, 1000)
  t.equal(reason.toString(), 'first')
})

t.test('both ends close at the same time: one close event each', async (t) => {
  const { server, client, serverLog, clientLog } = openPair(t)
  server.close(4001, 'server')
  client.close(4002, 'client')
  const [serverCode] = await serverLog.nth('close') as [number]
  const [clientCode] = await clientLog.nth('close') as [number]
  t.equal(serverCode, 4002, "the server reports the client's code")
  t.equal(clientCode, 4001, "the client reports the server's code")
  await turn()
  t.equal(serverLog.count('close'), 1)
  t.equal(clientLog.count('close'), 1)
  t.equal(serverLog.count('error') + clientLog.count('error'), 0)
})

t.test('close timeout: a peer that never answers the close frame is cut off with 1006', async (t) => {
  const stream = new SwallowingDuplex()
  const socket = createWebSocket(stream, { role: 'server', closeTimeout: 100 })
  t.teardown(() => socket.terminate())
  const closed = once<[number, Buffer]>(socket, 'close', WAIT)
  socket.close(1000, 'bye')
  t.equal(socket.readyState, WebSocket.CLOSING)
  const [code, reason] = await closed
  t.equal(code, 1006, 'no close frame came back')
  t.equal(reason.length, 0)
  t.equal(stream.destroyed, true, 'the transport was destroyed')
  t.equal(socket.readyState, WebSocket.CLOSED)
  const frames = parseFrames(stream.written).frames
  t.equal(frames.length, 1)
  t.equal(frames[0].opcode, OP.CLOSE, 'the close frame was written before giving up')
  t.equal(frames[0].closeCode, 1000)
})

t.test('close timeout after the handshake: a peer that never closes TCP is cut off', async (t) => {
  const { socket, peer, received, log } = openRaw(t, { closeTimeout: 100 })
  socket.close(1000)
  await received.waitFrames(1)
  // Answer the close frame, but never end the TCP connection.
  peer.write(clientFrame(OP.CLOSE, closeBody(1000)))
  const [code] = await log.nth('close') as [number]
  t.equal(code, 1000, 'the handshake completed, so the code is the peer\'s')
  t.equal(peer.destroyed, true, 'the transport was torn down')
})

t.test('terminate(): both sides close with 1006', async (t) => {
  const { server, client, serverLog, clientLog, serverEnd, clientEnd } = openPair(t)
  client.terminate()
  t.equal(client.readyState, WebSocket.CLOSING)
  const [clientCode] = await clientLog.nth('close') as [number]
  const [serverCode] = await serverLog.nth('close') as [number]
  t.equal(clientCode, 1006)
  t.equal(serverCode, 1006)
  t.equal(client.readyState, WebSocket.CLOSED)
  t.equal(server.readyState, WebSocket.CLOSED)
  t.equal(serverEnd.destroyed && clientEnd.destroyed, true)
  client.terminate()
  await turn()
  t.equal(clientLog.count('close'), 1, 'terminate() twice: still one close event')
  t.equal(serverLog.count('error') + clientLog.count('error'), 0)
})

t.test('terminate() during the closing handshake: close reports 1006 once', async (t) => {
  const { client, clientLog } = openPair(t)
  client.close(1000)
  client.terminate()
  const [code] = await clientLog.nth('close') as [number]
  t.equal(code, 1006)
  await turn()
  t.equal(clientLog.count('close'), 1)
})

t.test('the peer ends the stream without a close frame: 1006, and the stream is not leaked', async (t) => {
  const { socket, end, peer, log } = openRaw(t)
  peer.write(clientFrame(OP.TEXT, 'last words'))
  peer.end()
  const [code, reason] = await log.nth('close', 1, 1000) as [number, Buffer]
  t.equal(code, 1006)
  t.equal(reason.length, 0)
  t.same(log.events.map((e) => e[0]), ['message', 'close'], 'data before the EOF is still delivered')
  t.equal(end.destroyed, true, 'the half-open stream was ended and destroyed')
  t.equal(end.writableEnded, true, 'our side ended too')
  t.equal(socket.readyState, WebSocket.CLOSED)
})

t.test('the peer destroys the stream: 1006', async (t) => {
  const { socket, peer, log } = openRaw(t)
  peer.destroy()
  const [code] = await log.nth('close') as [number]
  t.equal(code, 1006)
  t.equal(socket.readyState, WebSocket.CLOSED)
  t.equal(log.count('error'), 0, 'a reset is not a WebSocket error')
})

t.test('a transport error closes with 1006 and no error event', async (t) => {
  const { socket, end, log } = openRaw(t)
  end.destroy(new Error('ECONNRESET'))
  const [code] = await log.nth('close') as [number]
  t.equal(code, 1006)
  t.equal(log.count('error'), 0)
  t.equal(socket.readyState, WebSocket.CLOSED)
})

t.test('a socket built on an already destroyed stream closes with 1006', async (t) => {
  const stream = new SwallowingDuplex()
  stream.destroy()
  const socket = createWebSocket(stream, { role: 'server' })
  const [code] = await once<[number]>(socket, 'close')
  t.equal(code, 1006)
  t.equal(socket.readyState, WebSocket.CLOSED)
})

t.test('onClosed runs once, before the close event', async (t) => {
  const calls: string[] = []
  const { client } = openPair(t, {}, {})
  const stream = new SwallowingDuplex()
  const socket = createWebSocket(stream, { role: 'server', onClosed: (s) => { calls.push(s === socket ? 'onClosed' : 'wrong socket') } })
  socket.on('close', () => calls.push('close'))
  socket.terminate()
  await once(socket, 'close')
  await turn()
  t.same(calls, ['onClosed', 'close'])
  t.equal(client.readyState, WebSocket.OPEN, 'unrelated sockets are untouched')
})
