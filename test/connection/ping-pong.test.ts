/**
 * Pings and pongs over an in-memory pair: automatic pongs with the same payload, the 'ping'
 * and 'pong' events, the 125-byte limit on control payloads.
 */
import t from 'tap'
import { WebSocket } from '../../src/connection/index.js'
import { turn } from '../helpers/wait.js'
import { openPair, openRaw } from '../helpers/pair.js'
import { OP, clientFrame } from '../helpers/frames.js'

t.test('a ping is answered with a pong carrying the same payload, both ways', async (t) => {
  const { server, client, serverLog, clientLog } = openPair(t)
  const payload = Buffer.from([0, 1, 2, 0xff, 0xfe])
  client.ping(payload)
  const [serverPing] = await serverLog.nth('ping') as [Buffer]
  t.same([...serverPing], [...payload], "the server's 'ping' event has the payload")
  const [clientPong] = await clientLog.nth('pong') as [Buffer]
  t.same([...clientPong], [...payload], 'the automatic pong echoes it')

  server.ping('from server')
  const [clientPing] = await clientLog.nth('ping') as [Buffer]
  t.equal(clientPing.toString(), 'from server')
  const [serverPong] = await serverLog.nth('pong') as [Buffer]
  t.equal(serverPong.toString(), 'from server')
  t.ok(Buffer.isBuffer(serverPong))
})

t.test('ping with no payload, and with the largest allowed (125 bytes)', async (t) => {
  const { client, clientLog } = openPair(t)
  client.ping()
  const max = Buffer.alloc(125, 0x61)
  client.ping(max)
  const [empty] = await clientLog.nth('pong', 1) as [Buffer]
  const [full] = await clientLog.nth('pong', 2) as [Buffer]
  t.equal(empty.length, 0)
  t.ok(full.equals(max))
})

t.test('the automatic pong goes out on the wire with the same bytes', async (t) => {
  const { peer, received, log } = openRaw(t)
  peer.write(clientFrame(OP.PING, 'are you there'))
  const [pong] = await received.waitFrames(1)
  t.equal(pong.opcode, OP.PONG)
  t.equal(pong.fin, true)
  t.equal(pong.masked, false, 'server frames are never masked')
  t.equal(pong.payload.toString(), 'are you there')
  const [ping] = await log.nth('ping') as [Buffer]
  t.equal(ping.toString(), 'are you there')
})

t.test('an unsolicited pong is a pong event, not answered', async (t) => {
  const { client, serverLog, clientLog } = openPair(t)
  client.pong('heartbeat')
  const [data] = await serverLog.nth('pong') as [Buffer]
  t.equal(data.toString(), 'heartbeat')
  await turn()
  await turn()
  t.equal(clientLog.count('pong') + clientLog.count('ping'), 0, 'nothing came back')
})

t.test('ping and pong payloads over 125 bytes throw RangeError', async (t) => {
  const { client, server, serverLog } = openPair(t)
  t.throws(() => client.ping(Buffer.alloc(126)), RangeError)
  t.throws(() => client.ping('x'.repeat(126)), RangeError)
  t.throws(() => client.ping('é'.repeat(63)), RangeError, '126 bytes of UTF-8 in 63 characters')
  t.throws(() => server.pong(Buffer.alloc(200)), RangeError)
  t.equal(client.readyState, WebSocket.OPEN, 'the socket stays usable')
  client.send('still open')
  const [data] = await serverLog.nth('message') as [Buffer]
  t.equal(data.toString(), 'still open')
  t.equal(serverLog.count('ping'), 0, 'no oversized ping reached the peer')
})

