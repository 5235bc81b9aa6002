/**
 * RFC 6455 §5.5.1 and §7 (closing), server side, for what the Autobahn group 7 cases do not
 * already prove: the server starting the closing handshake, sending nothing after its close
 * frame, never putting 1005/1006/1015 (or any unsendable code) on the wire, closing TCP first,
 * and logging a failed connection (§7.1.7).
 */
import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { ECHO_MAX_MESSAGE_SIZE, FuzzPeer, expectText } from '../helpers/conformance.js'
import { OP, closeFrame, clientFrame, decodeClose } from '../helpers/frames.js'
import { sleep, withTimeout } from '../helpers/wait.js'
import { RawClient } from '../helpers/raw-client.js'
import type { WebSocket } from '../../src/index.js'

/** An app whose route `/` runs `act` on each new socket (and echoes messages). */
async function appWith (t: Parameters<typeof buildApp>[0], act: (socket: WebSocket) => void, closeTimeout?: number): Promise<number> {
  const { port } = await buildApp(t, {
    plugin: { maxMessageSize: ECHO_MAX_MESSAGE_SIZE, ...(closeTimeout === undefined ? {} : { closeTimeout }) },
    noEcho: true,
    setup (app) {
      app.get('/', { websocket: true }, (socket) => {
        socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
        act(socket)
      })
    }
  })
  return port
}

t.test('7.1.2 the server starts the closing handshake: close frame with its code and reason, then TCP closed after the reply', async (t) => {
  const port = await appWith(t, (socket) => socket.on('message', (data) => { if (data.toString() === 'bye') socket.close(4000, 'done here') }))
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 'bye'))
  await peer.expectFrames([expectText('bye')])
  const f = await peer.client.readFrame()
  t.same([f.opcode, f.masked, decodeClose(f.payload)], [OP.CLOSE, false, { code: 4000, reason: 'done here' }])
  await peer.expectSilence(50, 'the server waits for the reply before closing TCP')
  peer.send(closeFrame(4000))
  await peer.expectTcpClosedByServer()
})

t.test('5.5.1 after sending its close frame the server sends no data frame and no ping (send and ping do nothing)', async (t) => {
  const results: string[] = []
  const port = await appWith(t, (socket) => {
    socket.close(1000, 'closing')
    socket.send('late text', (error) => results.push(`send: ${error?.name ?? 'ok'}`))
    socket.send(Buffer.from('late binary'))
    socket.ping('late ping')
  })
  const { client } = await RawClient.open(port, '/')
  t.teardown(() => client.destroy())
  const f = await client.readFrame()
  t.same([f.opcode, decodeClose(f.payload).code], [OP.CLOSE, 1000], 'the close frame is the only frame')
  // The peer keeps sending until it sees the close: its data is not echoed and its ping not answered.
  client.write(Buffer.concat([clientFrame(OP.TEXT, 'racing'), clientFrame(OP.PING, 'racing ping'), closeFrame(1000)]))
  await client.waitEnded()
  t.equal(client.pending.length, 0, 'nothing after the close frame')
  await sleep(10)
  t.same(results, ['send: WebSocketStateError'], 'the send callback got an error')
})

for (const code of [1005, 1006, 1015, 999, 1004, 2999, 5000]) {
  t.test(`7.4.1 the server never sends close code ${code}: close(${code}) throws RangeError and the socket stays open`, async (t) => {
    const outcome: string[] = []
    const port = await appWith(t, (socket) => {
      try { socket.close(code) } catch (error) { outcome.push((error as Error).name) }
      outcome.push(`readyState ${socket.readyState}`)
    })
    const peer = await FuzzPeer.open(t, port)
    peer.send(clientFrame(OP.TEXT, 'still open'))
    await peer.expectFrames([expectText('still open')])
    t.same(outcome, ['RangeError', 'readyState 1'])
    await peer.closeNormally()
  })
}

t.test('5.5.1 the server cannot send a close reason over 123 bytes (RangeError) and sends one of 123', async (t) => {
  const outcome: string[] = []
  const port = await appWith(t, (socket) => {
    try { socket.close(1000, 'x'.repeat(124)) } catch (error) { outcome.push((error as Error).name) }
    socket.close(1000, 'y'.repeat(123))
  })
  const { client } = await RawClient.open(port, '/')
  t.teardown(() => client.destroy())
  const f = await client.readFrame()
  t.same([f.opcode, f.payload.length, decodeClose(f.payload).reason], [OP.CLOSE, 125, 'y'.repeat(123)])
  t.same(outcome, ['RangeError'])
})

t.test('5.5.1 a close frame without a body from the application is sent empty and reported as 1005 locally', async (t) => {
  let closeCode: number | undefined
  const port = await appWith(t, (socket) => {
    socket.on('close', (code) => { closeCode = code })
    socket.close()
  })
  const { client } = await RawClient.open(port, '/')
  t.teardown(() => client.destroy())
  const f = await client.readFrame()
  t.same([f.opcode, f.payload.length], [OP.CLOSE, 0], 'an empty close frame, never 1005 on the wire')
  client.write(closeFrame())
  await client.waitEnded()
  await withTimeout((async () => { while (closeCode === undefined) await sleep(5) })(), 3000, 'the close event')
  t.equal(closeCode, 1005)
})

t.test('7.1.1 the server closes TCP at once after the closing handshake it did not start (client keeps TCP open)', async (t) => {
  const port = await appWith(t, () => {})
  const peer = await FuzzPeer.open(t, port)
  peer.client.socket.allowHalfOpen = true
  const started = Date.now()
  peer.send(closeFrame(1000))
  await peer.client.readFrame()
  await peer.client.waitEnded(2000)
  t.ok(Date.now() - started < 2000, 'the server FIN came right after the close echo, not after a timeout')
})

t.test('7.1.1 a server-initiated close whose reply never comes: the server drops TCP after closeTimeout', async (t) => {
  const port = await appWith(t, (socket) => socket.close(1001), 300)
  const { client } = await RawClient.open(port, '/')
  t.teardown(() => client.destroy())
  client.socket.allowHalfOpen = true
  const f = await client.readFrame()
  const sent = Date.now()
  t.same([f.opcode, decodeClose(f.payload).code], [OP.CLOSE, 1001])
  await client.waitEnded(3000)
  const waited = Date.now() - sent
  t.ok(waited >= 100, `the server waited for the reply first (${waited} ms)`)
  t.pass('then it closed the connection without our reply')
})

t.test('7.1.7 a failed connection is logged by the server (warn, with the stable error code)', async (t) => {
  const lines: Array<{ level: number, msg: string, err?: { code?: string } }> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as typeof lines[number])
      callback()
    }
  })
  // The echo app exactly as example-app/echo.js builds it (no 'error' listener), with a logger.
  const { port } = await buildApp(t, {
    fastify: { logger: { level: 'warn', stream } },
    plugin: { maxMessageSize: ECHO_MAX_MESSAGE_SIZE },
    noEcho: true,
    setup (app) {
      app.get('/', { websocket: true }, (socket) => {
        socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
      })
    }
  })
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, Buffer.from([0xc0, 0xaf])))
  await peer.expectFailure(1007)
  await withTimeout((async () => { while (!lines.some((l) => l.level === 40)) await sleep(5) })(), 3000, 'a warn log line')
  const warn = lines.find((l) => l.level === 40)
  t.equal(warn?.err?.code, 'WS_ERR_INVALID_UTF8', 'the log carries the stable error code')
})

t.test('7.1.7 after failing, the server processes nothing more from the peer, not even its close frame', async (t) => {
  const port = await appWith(t, () => {})
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(0x3), clientFrame(OP.TEXT, 'after'), clientFrame(OP.PING, 'after'), closeFrame(1000))
  // One close frame (1002, no echo of the peer's 1000), nothing else.
  await peer.expectFailure(1002)
})
