/**
 * Regression (issue 9, item 1): the heartbeat terminated live peers whose socket we had paused.
 * Their pong sat unread in the kernel, and the pong deadline ran anyway. Now a socket's clocks
 * stand still while we choose not to read; while a server only waits for its replies to drain,
 * a peer that takes them is alive, and one that takes nothing is still terminated.
 */
import net from 'node:net'
import t from 'tap'
import type { WebSocket } from '../../src/index.js'
import { buildApp, closeEvent, nextMessage, openWs } from '../helpers/app.js'
import { deferred, sleep } from '../helpers/wait.js'
import { OP, buildFrame } from '../helpers/frames.js'
import { RawClient } from '../helpers/raw-client.js'

const FAST = { pingInterval: 100, pongTimeout: 100 }

t.test('a paused socket whose peer answers pings is not terminated', async (t) => {
  const server = deferred<WebSocket>()
  const { wsUrl } = await buildApp(t, {
    plugin: FAST,
    setup (app) {
      app.get('/paused', { websocket: true }, (socket) => {
        socket.pause()
        socket.on('message', (data) => socket.send(data))
        server.resolve(socket)
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/paused`)
  const socket = await server.wait()
  client.send('sent while paused')
  // Ten times pingInterval + pongTimeout.
  await sleep(2000)
  t.equal(socket.readyState, socket.OPEN, 'still open after 2 s paused (it used to be terminated after ~200 ms)')
  socket.resume()
  t.equal((await nextMessage(client)).data.toString(), 'sent while paused', 'the message waited, and is delivered on resume')
  client.send('after')
  t.equal((await nextMessage(client)).data.toString(), 'after')
})

t.test('a for-await loop at 40 ms a message echoes all 40 and keeps its connection (100 ms heartbeats)', async (t) => {
  const { wsUrl } = await buildApp(t, {
    plugin: FAST,
    setup (app) {
      app.get('/slow', { websocket: true }, async (socket) => {
        for await (const { data, isBinary } of socket) {
          await sleep(40)
          socket.send(data, { binary: isBinary })
        }
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/slow`)
  let closed = false
  client.on('close', () => { closed = true })
  for (let i = 0; i < 40; i++) client.send(`m${i}`)
  const echoed: string[] = []
  for (let i = 0; i < 40; i++) echoed.push((await nextMessage(client, 10_000)).data.toString())
  t.same(echoed, Array.from({ length: 40 }, (_v, i) => `m${i}`), 'every message, in order')
  t.equal(closed, false, 'the connection stayed open')
})

t.test('an async handler that waits longer than pingInterval + pongTimeout before listening loses nothing', async (t) => {
  const { wsUrl } = await buildApp(t, {
    plugin: FAST,
    setup (app) {
      app.get('/late', { websocket: true }, async (socket) => {
        await sleep(600)
        socket.on('message', (data) => socket.send(data))
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/late`)
  client.send('early')
  t.equal((await nextMessage(client, 5000)).data.toString(), 'early')
  t.equal(client.readyState, client.OPEN)
})

/**
 * A raw client that opens /big, where each message asks for that many replies of `size` bytes;
 * resolves with the client and the server's socket.
 */
async function openBigReplies (t: Parameters<typeof buildApp>[0], size: number, heartbeat = FAST) {
  const server = deferred<WebSocket>()
  const { port } = await buildApp(t, {
    plugin: heartbeat,
    setup (app) {
      app.get('/big', { websocket: true }, (socket) => {
        server.resolve(socket)
        socket.on('message', (data) => {
          const count = Number(data.toString())
          for (let i = 0; i < count; i++) socket.send(Buffer.alloc(size, i & 0xff))
        })
      })
    }
  })
  const { client } = await RawClient.open(port, '/big')
  return { client, server: await server.wait() }
}

t.test('behind a write backlog, a peer that reads slowly is alive', async (t) => {
  const size = 256 * 1024
  const count = 24 // 6 MiB of replies: far more than the kernel buffers hold
  // pingInterval + pongTimeout = 900 ms against pauses of 100 ms: a wide margin, so timers
  // delayed by a loaded machine cannot stretch a pause past it.
  const { client } = await openBigReplies(t, size, { pingInterval: 450, pongTimeout: 450 })
  t.teardown(() => client.destroy())
  const socket = client.socket as net.Socket
  client.write(buildFrame({ opcode: OP.TEXT, payload: String(count) }))
  // Read in bursts: 100 ms paused, 30 ms flowing. Each pause is far shorter than
  // pingInterval + pongTimeout, so the server sees its backlog shrink often enough.
  let done = false
  const bursts = (async () => {
    while (!done) {
      socket.pause()
      await sleep(100)
      socket.resume()
      await sleep(30)
    }
  })()
  let received = 0
  let frames = 0
  try {
    for (; frames < count; frames++) {
      const frame = await client.readFrame(20_000)
      t.equal(frame.opcode, OP.BINARY)
      received += frame.payload.length
    }
  } finally {
    done = true
    await bursts
  }
  t.equal(frames, count, 'every reply arrived')
  t.equal(received, size * count)
  t.equal(client.closed, false, 'the connection was never cut')
})

t.test('behind a write backlog, a peer that takes nothing is still terminated', async (t) => {
  // 6 MiB of replies: under maxBufferedAmount (8 MiB), so no backpressure policy fires; the
  // heartbeat alone has to notice that the peer takes nothing.
  const { client, server } = await openBigReplies(t, 256 * 1024)
  t.teardown(() => client.destroy())
  const closed = deferred<number>()
  server.on('close', (code) => closed.resolve(code))
  ;(client.socket as net.Socket).pause() // never read again
  client.write(buildFrame({ opcode: OP.TEXT, payload: '24' }))
  const started = Date.now()
  t.equal(await closed.wait(10_000, 'the server socket to close'), 1006, 'terminated (1006)')
  const elapsed = Date.now() - started
  t.ok(elapsed < 3000, `terminated after ${elapsed} ms (pingInterval + pongTimeout = 200 ms, ticks of 25 ms)`)
})

t.test('a really dead peer on a socket that reads is still terminated within pingInterval + pongTimeout', async (t) => {
  const server = deferred<WebSocket>()
  const { port } = await buildApp(t, {
    plugin: FAST,
    setup (app) {
      app.get('/watched', { websocket: true }, (socket) => { server.resolve(socket) })
    }
  })
  const { client } = await RawClient.open(port, '/watched') // never answers pings
  t.teardown(() => client.destroy())
  const socket = await server.wait()
  const closed = deferred<number>()
  socket.on('close', (code) => closed.resolve(code))
  const started = Date.now()
  t.equal(await closed.wait(3000), 1006, 'terminated: close reports 1006')
  t.ok(Date.now() - started < 1500, 'within a few intervals')
})

t.test('a paused socket is not judged, and a closed one closes normally', async (t) => {
  const server = deferred<WebSocket>()
  const { wsUrl } = await buildApp(t, {
    plugin: FAST,
    setup (app) {
      app.get('/p', { websocket: true }, (socket) => { socket.pause(); server.resolve(socket) })
    }
  })
  const client = await openWs(t, `${wsUrl}/p`)
  const socket = await server.wait()
  await sleep(500)
  socket.close(1000, 'done')
  t.same(await closeEvent(client), { code: 1000, reason: 'done' })
})
