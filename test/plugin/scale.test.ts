// Issue 5 behaviours over real sockets, at the sizes the issue names: 1 000 connections
// closed by app.close(), 1 000 subscribers, slow readers, silent peers, drain mode.
import t from 'tap'
import net from 'node:net'
import { connect, type WebSocket } from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { sleep, withTimeout, until } from '../helpers/wait.js'
import { OP, buildFrame } from '../helpers/frames.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'


/** Opens `count` raw upgraded connections that never read or answer anything afterwards. */
async function openSilent (port: number, path: string, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = []
  const open = async (): Promise<void> => {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    sockets.push(socket)
    await new Promise<void>((resolve, reject) => {
      let head = ''
      socket.on('data', function onData (chunk) {
        head += chunk.toString('latin1')
        if (head.includes('\r\n\r\n')) {
          socket.removeListener('data', onData)
          socket.pause() // never read again
          if (head.startsWith('HTTP/1.1 101')) resolve()
          else reject(new Error(head.split('\r\n')[0]))
        }
      })
      socket.once('connect', () => socket.write(handshakeRequest({ path })))
    })
  }
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, open))
  }
  return sockets
}

t.test('app.close() with 1 000 open connections whose peers never answer finishes within the close timeout', async (t) => {
  const closeTimeout = 500
  const { app, port } = await buildApp(t, { plugin: { closeTimeout } })
  const peers = await openSilent(port, '/echo', 1000)
  t.teardown(() => { for (const peer of peers) peer.destroy() })
  await until(() => app.websocketServer.clients.size === 1000, 5000, '1 000 server sockets')
  const started = Date.now()
  await withTimeout(app.close(), 5000, 'app.close()')
  const elapsed = Date.now() - started
  t.ok(elapsed < closeTimeout + 1500, `closed in ${elapsed} ms (close timeout ${closeTimeout} ms)`)
  t.equal(app.websocketServer.clients.size, 0, 'every socket is gone')
})

t.test('publish to 1 000 subscribers: each receives every message exactly once, in order', async (t) => {
  const { app, port } = await buildApp(t, {
    setup (app) {
      app.get('/sub', { websocket: true }, (socket) => {
        socket.subscribe('feed')
        socket.send('subscribed')
      })
    }
  })
  const clients: WebSocket[] = []
  const received = new Map<WebSocket, string[]>()
  for (let i = 0; i < 1000; i += 100) {
    await Promise.all(Array.from({ length: 100 }, async () => {
      const client = await connect(`ws://127.0.0.1:${port}/sub`)
      const log: string[] = []
      received.set(client, log)
      client.on('message', (data) => log.push(data.toString()))
      clients.push(client)
    }))
  }
  t.teardown(() => { for (const client of clients) client.terminate() })
  await until(() => [...received.values()].every((log) => log.length === 1), 10_000, 'every subscription')
  const messages = Array.from({ length: 50 }, (_v, i) => `update ${i}`)
  for (const message of messages) t.equal(app.publish('feed', message), 1000)
  await until(() => [...received.values()].every((log) => log.length === 51), 20_000, 'every message everywhere')
  let exact = 0
  for (const log of received.values()) if (JSON.stringify(log.slice(1)) === JSON.stringify(messages)) exact++
  t.equal(exact, 1000, 'all 1 000 subscribers got all 50 messages once, in order')
})

t.test('a reader that never reads: the outgoing queue stays bounded and the close policy fires', async (t) => {
  const maxBufferedAmount = 1024 * 1024
  let peak = 0
  let closeCode: number | undefined
  const { port } = await buildApp(t, {
    plugin: { maxBufferedAmount, closeTimeout: 300 },
    setup (app) {
      app.get('/firehose', { websocket: true }, (socket) => {
        const chunk = Buffer.alloc(64 * 1024)
        const pump = (): void => {
          if (socket.readyState !== socket.OPEN) return
          socket.send(chunk)
          peak = Math.max(peak, socket.bufferedAmount)
          setImmediate(pump)
        }
        pump()
        socket.on('close', (code) => { closeCode = code })
      })
    }
  })
  const [peer] = await openSilent(port, '/firehose', 1)
  t.teardown(() => peer.destroy())
  await until(() => closeCode !== undefined, 5000, 'the server to give up on the slow reader')
  t.ok(peak <= maxBufferedAmount + 64 * 1024 + 16, `queue peaked at ${peak} bytes (cap ${maxBufferedAmount})`)
  t.equal(closeCode, 1006, 'the 1008 close frame could not be delivered either: destroyed after the close timeout')
})

t.test('a peer that stops answering pings is terminated (1006)', async (t) => {
  let closed: { code: number, at: number } | undefined
  const { port } = await buildApp(t, {
    plugin: { pingInterval: 100, pongTimeout: 100 },
    setup (app) {
      app.get('/hb', { websocket: true }, (socket) => {
        socket.on('close', (code) => { closed = { code, at: Date.now() } })
      })
    }
  })
  const started = Date.now()
  const [peer] = await openSilent(port, '/hb', 1)
  t.teardown(() => peer.destroy())
  await until(() => closed !== undefined, 3000, 'termination')
  t.equal(closed!.code, 1006)
  t.ok(closed!.at - started < 1500, `terminated after ${closed!.at - started} ms`)
})

t.test('heartbeats are per route: pingInterval false turns them off', async (t) => {
  const { port } = await buildApp(t, {
    plugin: { pingInterval: 50, pongTimeout: 5000 },
    setup (app) {
      app.get('/quiet', { websocket: { pingInterval: false } }, () => {})
      app.get('/pinged', { websocket: true }, () => {})
    }
  })
  const quiet = await RawClient.open(port, '/quiet')
  const pinged = await RawClient.open(port, '/pinged')
  t.teardown(() => { quiet.client.destroy(); pinged.client.destroy() })
  const ping = await pinged.client.readFrame(2000)
  t.equal(ping.opcode, OP.PING, 'the default route pings a silent peer')
  await sleep(300)
  t.equal(quiet.client.pending.length, 0, 'the quiet route sent nothing')
})

t.test('drain(): new upgrades get 503, existing connections keep working, resolves when they close', async (t) => {
  const { app, port } = await buildApp(t)
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  let drained = false
  const draining = app.websocketServer.drain().then(() => { drained = true })
  t.equal(app.websocketServer.draining, true)
  const refused = await RawClient.connect(port)
  t.teardown(() => refused.destroy())
  refused.write(handshakeRequest({ path: '/echo' }))
  t.equal((await refused.readResponse()).statusCode, 503)
  client.write(buildFrame({ opcode: OP.TEXT, payload: 'still served' }))
  t.equal((await client.readFrame()).payload.toString(), 'still served')
  await sleep(50)
  t.equal(drained, false, 'not drained while a connection is open')
  client.destroy()
  await withTimeout(draining, 3000, 'drain()')
  t.equal(drained, true)
})

t.test('for await in a route handler: messages sent right after the upgrade are not lost', async (t) => {
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/loop', { websocket: true }, async (socket) => {
        await sleep(30)
        for await (const { data, isBinary } of socket) socket.send(data, { binary: isBinary })
      })
    }
  })
  const client = await connect(`ws://127.0.0.1:${port}/loop`)
  t.teardown(() => client.terminate())
  const echoes: string[] = []
  client.on('message', (data) => echoes.push(data.toString()))
  for (let i = 0; i < 20; i++) client.send(`n${i}`)
  await until(() => echoes.length === 20, 3000, 'all echoes')
  t.same(echoes, Array.from({ length: 20 }, (_v, i) => `n${i}`))
})
