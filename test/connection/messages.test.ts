/**
 * Messages over an in-memory pair: both directions, every length encoding, every data type
 * `send` accepts, forced text, fragmentation, send callbacks, and sends on a closing socket.
 */
import t from 'tap'
import { WebSocket, createWebSocket } from '../../src/connection/index.js'
import { WebSocketStateError } from '../../src/protocol/index.js'
import { deferred, turn, WAIT } from '../helpers/wait.js'
import { SIZES, pattern, text } from '../helpers/payloads.js'
import { SwallowingDuplex, openPair, openRaw } from '../helpers/pair.js'
import { OP, clientFrame, parseFrames } from '../helpers/frames.js'

t.test('messages both ways, text and binary, across every length encoding', async (t) => {
  const { server, client, serverLog, clientLog } = openPair(t)
  let serverCount = 0
  let clientCount = 0
  for (const [label, size] of SIZES) {
    const timeout = size >= 65536 ? 10000 : WAIT
    const sentText = text(size)
    const sentBytes = pattern(size, size + 1)

    server.send(sentText)
    server.send(sentBytes)
    const [textData, textIsBinary] = await clientLog.nth('message', ++clientCount, timeout) as [Buffer, boolean]
    const [binData, binIsBinary] = await clientLog.nth('message', ++clientCount, timeout) as [Buffer, boolean]
    t.equal(textIsBinary, false, `server -> client text ${label} is text`)
    t.ok(Buffer.isBuffer(textData), 'message data is a Buffer')
    t.equal(textData.length, size, `server -> client text ${label} length`)
    t.ok(textData.toString('utf8') === sentText, `server -> client text ${label} content`)
    t.equal(binIsBinary, true, `server -> client binary ${label} is binary`)
    t.ok(binData.equals(sentBytes), `server -> client binary ${label} content`)

    client.send(sentText)
    client.send(sentBytes)
    const [cText, cTextIsBinary] = await serverLog.nth('message', ++serverCount, timeout) as [Buffer, boolean]
    const [cBin, cBinIsBinary] = await serverLog.nth('message', ++serverCount, timeout) as [Buffer, boolean]
    t.equal(cTextIsBinary, false, `client -> server text ${label} is text`)
    t.ok(cText.toString('utf8') === sentText, `client -> server text ${label} content`)
    t.equal(cBinIsBinary, true, `client -> server binary ${label} is binary`)
    t.ok(cBin.equals(sentBytes), `client -> server binary ${label} content`)
  }
  t.equal(serverLog.count('error') + clientLog.count('error'), 0, 'no errors')
})

t.test('multi-byte UTF-8 text keeps its characters', async (t) => {
  const { client, serverLog } = openPair(t)
  const sent = 'héllo wörld — €uro 😀 日本語 '.repeat(20)
  client.send(sent)
  const [data, isBinary] = await serverLog.nth('message') as [Buffer, boolean]
  t.equal(isBinary, false)
  t.equal(data.toString('utf8'), sent)
})

t.test('send accepts string, Buffer, Uint8Array, DataView and ArrayBuffer', async (t) => {
  const { client, serverLog } = openPair(t)
  const backing = new Uint8Array([9, 9, 1, 2, 3, 4, 5, 9, 9])
  const cases: Array<[string, Parameters<WebSocket['send']>[0], boolean, Buffer]> = [
    ['string', 'hello', false, Buffer.from('hello')],
    ['Buffer', Buffer.from([0, 1, 2, 255]), true, Buffer.from([0, 1, 2, 255])],
    ['Uint8Array view with an offset', backing.subarray(2, 7), true, Buffer.from([1, 2, 3, 4, 5])],
    ['DataView with an offset', new DataView(backing.buffer, 3, 3), true, Buffer.from([2, 3, 4])],
    ['ArrayBuffer', new Uint8Array([7, 8, 9]).buffer, true, Buffer.from([7, 8, 9])],
    ['Uint16Array (its bytes)', new Uint16Array([0x0102]), true, Buffer.from(new Uint16Array([0x0102]).buffer)],
    ['empty string', '', false, Buffer.alloc(0)],
    ['empty ArrayBuffer', new ArrayBuffer(0), true, Buffer.alloc(0)]
  ]
  for (const [, data] of cases) t.equal(client.send(data), true, 'send returns true under the high-water mark')
  await serverLog.nth('message', cases.length)
  const messages = serverLog.of('message') as Array<[Buffer, boolean]>
  cases.forEach(([label, , isBinary, expected], i) => {
    t.equal(messages[i][1], isBinary, `${label}: isBinary ${String(isBinary)}`)
    t.same([...messages[i][0]], [...expected], `${label}: bytes`)
  })
  t.same([...backing], [9, 9, 1, 2, 3, 4, 5, 9, 9], 'the caller\'s buffer is not modified by masking')
})

t.test('binary: false sends valid UTF-8 bytes as text; binary: true sends a string as binary', async (t) => {
  const { client, serverLog } = openPair(t)
  client.send(Buffer.from('héllo'), { binary: false })
  client.send(new Uint8Array(Buffer.from('€')), { binary: false })
  client.send('as binary', { binary: true })
  await serverLog.nth('message', 3)
  const [first, second, third] = serverLog.of('message') as Array<[Buffer, boolean]>
  t.equal(first[1], false, 'Buffer forced to text')
  t.equal(first[0].toString(), 'héllo')
  t.equal(second[1], false, 'Uint8Array forced to text')
  t.equal(second[0].toString(), '€')
  t.equal(third[1], true, 'string forced to binary')
  t.equal(third[0].toString(), 'as binary')
})

t.test('binary: false on invalid UTF-8 throws TypeError and sends nothing', async (t) => {
  const { client, serverLog } = openPair(t)
  let called = false
  t.throws(() => client.send(Buffer.from([0x68, 0xff, 0x69]), { binary: false }, () => { called = true }), TypeError)
  t.throws(() => client.send(Buffer.from([0xe2, 0x82]), { binary: false }), TypeError, 'a truncated sequence too')
  client.send('after')
  const [data] = await serverLog.nth('message') as [Buffer, boolean]
  t.equal(data.toString(), 'after', 'the invalid message never reached the peer')
  await turn()
  t.equal(serverLog.count('message'), 1)
  t.equal(serverLog.count('error'), 0, 'the peer did not fail with 1007')
  t.equal(called, false, 'the callback of a send that threw is not called')
  t.equal(client.readyState, WebSocket.OPEN, 'the socket stays open')
})

t.test('fin: false fragments arrive as one message', async (t) => {
  const { client, server, serverLog, clientLog } = openPair(t)
  client.send('ab', { fin: false })
  client.send('cd', { fin: false })
  client.send('ef')
  server.send(Buffer.from([1, 2]), { fin: false })
  server.send(Buffer.from([3]), { fin: false, binary: false })
  server.send(Buffer.from([4, 5]))
  const [data, isBinary] = await serverLog.nth('message') as [Buffer, boolean]
  t.equal(data.toString(), 'abcdef')
  t.equal(isBinary, false, 'the first fragment decides the type')
  const [bin, binIsBinary] = await clientLog.nth('message') as [Buffer, boolean]
  t.same([...bin], [1, 2, 3, 4, 5])
  t.equal(binIsBinary, true, 'later fragments cannot change the type')
  await turn()
  t.equal(serverLog.count('message'), 1, 'one message, not three')
  t.equal(clientLog.count('message'), 1)
})

t.test('fragments go out as a data frame and continuations, control frames may interleave', async (t) => {
  const { socket, received, log } = openRaw(t)
  socket.send('ab', { fin: false })
  socket.ping('p')
  socket.send('cd', { fin: false })
  socket.send('ef')
  const frames = await received.waitFrames(4)
  t.same(frames.map((f) => [f.opcode, f.fin, f.payload.toString()]), [
    [OP.TEXT, false, 'ab'],
    [OP.PING, true, 'p'],
    [OP.CONT, false, 'cd'],
    [OP.CONT, true, 'ef']
  ])
  t.ok(frames.every((f) => !f.masked), 'a server never masks')
  t.equal(log.count('error'), 0)
})

t.test('a fragmented incoming message with a ping in the middle', async (t) => {
  const { peer, log, received } = openRaw(t)
  peer.write(Buffer.concat([clientFrame(OP.TEXT, 'hel', { fin: false }), clientFrame(OP.PING, 'mid'), clientFrame(OP.CONT, 'lo')]))
  const [data, isBinary] = await log.nth('message') as [Buffer, boolean]
  t.equal(data.toString(), 'hello')
  t.equal(isBinary, false)
  t.same(log.events.map((e) => e[0]), ['ping', 'message'], 'the ping is reported when it arrives')
  const [pong] = await received.waitFrames(1)
  t.equal(pong.opcode, OP.PONG)
  t.equal(pong.payload.toString(), 'mid')
})

t.test('the send callback is called once, without error, after the data was written', async (t) => {
  const stream = new SwallowingDuplex()
  const socket = createWebSocket(stream, { role: 'server' })
  t.teardown(() => socket.terminate())
  const done = deferred<unknown[]>()
  let calls = 0
  let writtenAtCallback: Buffer = Buffer.alloc(0)
  let sync = true
  socket.send('hello', (...args: unknown[]) => {
    calls++
    writtenAtCallback = stream.written
    done.resolve(args)
  })
  sync = false
  const [error] = await done.wait()
  t.equal(sync, false, 'not called synchronously')
  t.notOk(error, 'no error')
  t.same(parseFrames(writtenAtCallback).frames.map((f) => f.payload.toString()), ['hello'], 'the frame was written by then')
  await turn()
  t.equal(calls, 1, 'called exactly once')
})

t.test('the send callback of a large message waits for the whole frame', async (t) => {
  const stream = new SwallowingDuplex()
  const socket = createWebSocket(stream, { role: 'server' })
  t.teardown(() => socket.terminate())
  const payload = pattern(1024 * 1024)
  const done = deferred<number>()
  socket.send(payload, () => done.resolve(stream.written.length))
  t.equal(await done.wait(), 10 + payload.length, 'header and payload were written when the callback ran')
})

t.test('callbacks of sends, pings and pongs each run once, in order', async (t) => {
  const { client, serverLog } = openPair(t)
  const order: string[] = []
  client.send('one', () => order.push('send one'))
  client.ping('p', undefined, () => order.push('ping'))
  client.pong('q', () => order.push('pong'))
  client.send('two', { binary: true }, () => order.push('send two'))
  await serverLog.nth('message', 2)
  await turn()
  t.same(order, ['send one', 'ping', 'pong', 'send two'])
  t.equal(serverLog.count('ping'), 1)
  t.equal(serverLog.count('pong'), 1)
})

t.test('send on a CLOSING socket returns false, calls back with an error, does not throw', async (t) => {
  const { client, serverLog } = openPair(t)
  client.close(1000)
  t.equal(client.readyState, WebSocket.CLOSING)
  const error = deferred<unknown>()
  let result: boolean | undefined
  t.doesNotThrow(() => { result = client.send('late', (e) => error.resolve(e)) })
  t.equal(result, false)
  const e = await error.wait()
  t.type(e, WebSocketStateError)
  t.equal((e as WebSocketStateError).code, 'WS_ERR_INVALID_STATE')
  t.doesNotThrow(() => client.send('no callback'), 'without a callback it is silently dropped')
  await serverLog.nth('close')
  t.equal(serverLog.count('message'), 0, 'nothing sent after the close frame reached the peer')
})

t.test('send, ping and pong on a CLOSED socket: false, error callback, no throw', async (t) => {
  const { client, clientLog } = openPair(t)
  client.close(1000)
  await clientLog.nth('close')
  t.equal(client.readyState, WebSocket.CLOSED)
  const errors: unknown[] = []
  let result: boolean | undefined
  t.doesNotThrow(() => {
    result = client.send('late', (e) => errors.push(e))
    client.ping('x', undefined, (e) => errors.push(e))
    client.pong('y', (e) => errors.push(e))
  })
  t.equal(result, false)
  await turn()
  t.equal(errors.length, 3, 'every callback got an error')
  t.ok(errors.every((e) => e instanceof WebSocketStateError))
})

t.test('send on the side that received a close frame returns false', async (t) => {
  const { client, server, serverLog } = openPair(t)
  client.close(4000)
  await serverLog.nth('close')
  const error = deferred<unknown>()
  t.equal(server.send('late', (e) => error.resolve(e)), false)
  t.type(await error.wait(), Error)
})

t.test('send after terminate() returns false and calls back with an error', async (t) => {
  const { client, clientLog } = openPair(t)
  client.terminate()
  t.equal(client.readyState, WebSocket.CLOSING)
  const error = deferred<unknown>()
  let result: boolean | undefined
  t.doesNotThrow(() => { result = client.send('late', (e) => error.resolve(e)) })
  t.equal(result, false, 'a terminated socket does not accept data')
  t.type(await error.wait(), WebSocketStateError)
  await clientLog.nth('close')
  t.equal(clientLog.count('error'), 0, 'no error event')
})

t.test('send on a socket whose transport was destroyed under it returns false', async (t) => {
  const { client, clientEnd, clientLog } = openPair(t)
  clientEnd.destroy()
  const errors: unknown[] = []
  let result: boolean | undefined
  t.doesNotThrow(() => {
    result = client.send('late', (e) => errors.push(e))
    client.ping('late', undefined, (e) => errors.push(e))
  })
  t.equal(result, false)
  await clientLog.nth('close')
  t.equal(errors.length, 2)
  t.ok(errors.every((e) => e instanceof WebSocketStateError), 'a state error, not a stream error')
})

t.test('send returns false when the transport is over its high-water mark', async (t) => {
  const stream = new SwallowingDuplex({ highWaterMark: 16 })
  stream.complete = false
  const socket = createWebSocket(stream, { role: 'server' })
  t.teardown(() => socket.terminate())
  t.equal(socket.send('a'), true, 'a small message fits')
  t.equal(socket.send(Buffer.alloc(64)), false, 'over the mark: wait for drain')
  t.ok(socket.bufferedAmount >= 64 + 3, 'bufferedAmount counts the queued bytes')
})

t.test('bufferedAmount counts bytes queued in this tick and drops to 0 once written', async (t) => {
  const stream = new SwallowingDuplex()
  const socket = createWebSocket(stream, { role: 'server' })
  t.teardown(() => socket.terminate())
  t.equal(socket.bufferedAmount, 0)
  socket.send('hello')
  t.equal(socket.bufferedAmount, 7, '2-byte header + 5 bytes, corked until the next tick')
  await turn()
  t.equal(socket.bufferedAmount, 0)
  t.equal(stream.written.length, 7)
})

t.test('send of an unsupported type throws TypeError', async (t) => {
  const { client } = openPair(t)
  t.throws(() => client.send(42 as unknown as string), TypeError)
  t.throws(() => client.send(null as unknown as string), TypeError)
  t.throws(() => client.ping({} as unknown as string), TypeError)
  t.equal(client.readyState, WebSocket.OPEN)
})
