/**
 * A peer that breaks the protocol (RFC 6455 §7.1.7): 'error' once with a stable code and the
 * close code, the close frame with that code written to the peer, 'close' once, and no throw
 * when nobody listens for 'error'.
 */
import t from 'tap'
import { createDuplexPair, WebSocket, createWebSocket } from '../../src/connection/index.js'
import { WebSocketProtocolError } from '../../src/protocol/index.js'
import { deferred, once, turn, WAIT } from '../helpers/wait.js'
import { ByteSink, openRaw } from '../helpers/pair.js'
import { OP, closeBody, clientFrame, serverFrame } from '../helpers/frames.js'

interface Case {
  name: string
  role: 'server' | 'client'
  bytes: Buffer
  code: string
  closeCode: number
  maxMessageSize?: number
}

const cases: Case[] = [
  { name: 'an unmasked frame to a server', role: 'server', bytes: serverFrame(OP.TEXT, 'hi'), code: 'WS_ERR_EXPECTED_MASK', closeCode: 1002 },
  { name: 'a masked frame to a client', role: 'client', bytes: clientFrame(OP.TEXT, 'hi'), code: 'WS_ERR_UNEXPECTED_MASK', closeCode: 1002 },
  { name: 'a reserved opcode', role: 'server', bytes: clientFrame(0x3, 'x'), code: 'WS_ERR_INVALID_OPCODE', closeCode: 1002 },
  { name: 'a continuation with no message', role: 'server', bytes: clientFrame(OP.CONT, 'x'), code: 'WS_ERR_INVALID_OPCODE', closeCode: 1002 },
  { name: 'invalid UTF-8 in a text message', role: 'server', bytes: clientFrame(OP.TEXT, Buffer.from([0x68, 0xc3, 0x28])), code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 },
  { name: 'a message over maxMessageSize', role: 'server', bytes: clientFrame(OP.BINARY, Buffer.alloc(11)), code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009, maxMessageSize: 10 },
  { name: 'a close frame with code 1005', role: 'server', bytes: clientFrame(OP.CLOSE, closeBody(1005)), code: 'WS_ERR_INVALID_CLOSE_CODE', closeCode: 1002 }
]

for (const c of cases) {
  t.test(`${c.name}: error once, close frame ${c.closeCode} to the peer, close once`, async (t) => {
    const { socket, peer, received, log } = openRaw(t, { role: c.role, maxMessageSize: c.maxMessageSize })
    // The peer closes its side when ours does, like a TCP peer would.
    peer.on('end', () => peer.end())
    let stateAtError: number | undefined
    socket.once('error', () => { stateAtError = socket.readyState })
    // The bad frame, then more bytes (another bad frame, a valid one) that must be discarded.
    const valid = c.role === 'server' ? clientFrame(OP.TEXT, 'ignored') : serverFrame(OP.TEXT, 'ignored')
    peer.write(Buffer.concat([c.bytes, c.bytes, valid]))

    const [error] = await log.nth('error') as [WebSocketProtocolError]
    t.type(error, WebSocketProtocolError)
    t.equal(error.code, c.code, 'stable error code')
    t.equal(error.closeCode, c.closeCode, 'close code on the error')
    t.equal(stateAtError, WebSocket.CLOSING, "CLOSING when 'error' is emitted")

    const frames = await received.waitFrames(1)
    t.equal(frames[0].opcode, OP.CLOSE)
    t.equal(frames[0].closeCode, c.closeCode, `close frame with ${c.closeCode} written to the peer`)
    t.equal(frames[0].masked, c.role === 'client', 'masked only by a client')
    t.ok(Buffer.byteLength(frames[0].closeReason ?? '') <= 123)

    const [code] = await log.nth('close') as [number]
    t.equal(code, 1006, 'no close frame came back: 1006')
    await turn()
    t.equal(log.count('error'), 1, "'error' exactly once")
    t.equal(log.count('close'), 1, "'close' exactly once")
    t.equal(log.count('message'), 0, 'nothing after the bad frame was delivered')
    t.equal(received.frames.length, 1, 'only the close frame was written')
  })
}

t.test('with no error listener nothing throws and onUnhandledError gets the error', async (t) => {
  const [end, peer] = createDuplexPair()
  const unhandled: Error[] = []
  const socket = createWebSocket(end, { role: 'server', closeTimeout: 100, onUnhandledError: (e) => unhandled.push(e) })
  t.teardown(() => socket.terminate())
  const received = new ByteSink(peer)
  peer.on('end', () => peer.end())
  const closed = once<[number]>(socket, 'close')
  peer.write(serverFrame(OP.TEXT, 'unmasked'))
  const [code] = await closed
  t.equal(code, 1006)
  t.equal(unhandled.length, 1, 'onUnhandledError called once')
  t.type(unhandled[0], WebSocketProtocolError)
  t.equal((unhandled[0] as WebSocketProtocolError).closeCode, 1002)
  t.equal(received.frames[0]?.closeCode, 1002, 'the peer still got the close frame')
})

t.test('with no error listener and no onUnhandledError the process does not crash', async (t) => {
  const [end, peer] = createDuplexPair()
  const socket = createWebSocket(end, { role: 'server', closeTimeout: 100 })
  t.teardown(() => socket.terminate())
  peer.resume()
  peer.on('end', () => peer.end())
  const closed = once<[number]>(socket, 'close')
  peer.write(serverFrame(OP.TEXT, 'unmasked'))
  t.equal((await closed)[0], 1006)
})

t.test('an error listener attached means onUnhandledError is not called', async (t) => {
  const [end, peer] = createDuplexPair()
  const unhandled: Error[] = []
  const socket = createWebSocket(end, { role: 'server', closeTimeout: 100, onUnhandledError: (e) => unhandled.push(e) })
  t.teardown(() => socket.terminate())
  peer.resume()
  const error = deferred<Error>()
  socket.on('error', (e) => error.resolve(e))
  peer.write(clientFrame(OP.TEXT, Buffer.from([0xff])))
  t.equal((await error.wait() as WebSocketProtocolError).closeCode, 1007)
  await once(socket, 'close', WAIT)
  t.equal(unhandled.length, 0)
})

t.test('a protocol error after the close frame was sent is still reported once', async (t) => {
  const { socket, peer, received, log } = openRaw(t, { closeTimeout: 200 })
  peer.on('end', () => peer.end())
  socket.close(1000)
  await received.waitFrames(1)
  peer.write(clientFrame(OP.CLOSE, Buffer.from([0x03])))
  const [error] = await log.nth('error') as [WebSocketProtocolError]
  t.equal(error.code, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH')
  await log.nth('close')
  t.equal(received.frames.filter((f) => f.opcode === OP.CLOSE).length, 1, 'no second close frame')
  t.equal(log.count('error'), 1)
  t.equal(log.count('close'), 1)
})
