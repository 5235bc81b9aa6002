/**
 * Messages that arrive before an async handler attaches its listeners are held, then
 * delivered in order, never lost.
 */
import t from 'tap'
import { buildApp, closeEvent, nextMessage, openWs } from '../helpers/app.js'
import { deferred, sleep } from '../helpers/wait.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'
import { buildFrame, OP } from '../helpers/frames.js'

t.test('messages sent on open reach an async handler that listens after 50 ms', async (t) => {
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/late', { websocket: true }, async (socket) => {
        await sleep(50)
        socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/late`)
  client.send('one')
  client.send(Buffer.from([2]))
  client.send('three')
  const received = [await nextMessage(client), await nextMessage(client), await nextMessage(client)]
  t.same(received.map((m) => [m.isBinary, m.data.toString('hex')]), [
    [false, Buffer.from('one').toString('hex')],
    [true, '02'],
    [false, Buffer.from('three').toString('hex')]
  ], 'all three, in order, with their types')
})

t.test('frames that came with the handshake (upgrade head) reach an async handler', async (t) => {
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/late', { websocket: true }, async (socket) => {
        await sleep(50)
        socket.on('message', (data) => socket.send(data))
      })
    }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(Buffer.concat([handshakeRequest({ path: '/late' }), buildFrame({ opcode: OP.TEXT, payload: 'early' })]))
  t.equal((await client.readResponse()).statusCode, 101)
  const frame = await client.readFrame()
  t.equal(frame.opcode, OP.BINARY, 'echoed as sent by the handler (a Buffer)')
  t.equal(frame.payload.toString(), 'early')
})

t.test('a close that arrives before the async handler listens is still reported', async (t) => {
  const serverClose = deferred<number>()
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/late', { websocket: true }, async (socket) => {
        await sleep(50)
        socket.on('close', (code) => serverClose.resolve(code))
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/late`)
  const closed = closeEvent(client)
  client.close(4100)
  t.equal((await closed).code, 4100, 'the handshake completes at once, events held or not')
  t.equal(await serverClose.wait(), 4100)
})

t.test('a handler awaiting forever still gets its messages once it listens', async (t) => {
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/loop', { websocket: true }, async (socket) => {
        await sleep(20)
        socket.on('message', (data) => socket.send(`got ${String(data)}`))
        // Never settles while the socket is open, as a `for await` loop would.
        await new Promise<void>((resolve) => socket.on('close', () => resolve()))
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/loop`)
  client.send('a')
  t.equal((await nextMessage(client)).data.toString(), 'got a')
  client.send('b')
  t.equal((await nextMessage(client)).data.toString(), 'got b')
})
