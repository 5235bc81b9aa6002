// Faults: peers that vanish at every stage, thousands of abrupt disconnects, and hostile
// clients next to well-behaved ones. Everything bounded in count and time, on 127.0.0.1.
import t from 'tap'
import net from 'node:net'
import v8 from 'node:v8'
import vm from 'node:vm'
import WsClient from 'ws'
import type { WebSocket } from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { sleep, withTimeout, until } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'
import { OP, buildFrame, closeFrame } from '../helpers/frames.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

function timers (): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length
}

/** An app whose route records every server socket's close events. */
async function closeRecordingApp (t: Teardown, closeTimeout = 300) {
  const closes = new Map<WebSocket, number[]>()
  const opened: WebSocket[] = []
  const built = await buildApp(t, {
    plugin: { closeTimeout },
    setup (app) {
      app.get('/watch', { websocket: true }, (socket) => {
        opened.push(socket)
        closes.set(socket, [])
        socket.on('close', (code) => closes.get(socket)!.push(code))
        socket.on('message', (data) => { if (String(data) === 'close-me') socket.close(1000) })
      })
    }
  })
  return { ...built, closes, opened }
}


t.test('a peer that vanishes mid-frame: close fires once with 1006, nothing left behind', async (t) => {
  const { port, app, closes, opened } = await closeRecordingApp(t)
  const baseline = timers()
  const { client } = await RawClient.open(port, '/watch')
  await until(() => opened.length === 1, 3000, 'the handler')
  const frame = buildFrame({ opcode: OP.BINARY, payload: Buffer.alloc(1000, 1) })
  client.write(frame.subarray(0, 300))
  await sleep(20)
  client.destroy()
  await until(() => closes.get(opened[0])!.length > 0, 3000, 'close')
  await sleep(50)
  t.same(closes.get(opened[0]), [1006], 'exactly one close, 1006')
  t.equal(app.websocketServer.clients.size, 0)
  t.ok(timers() <= baseline, 'no timer left running')
})

t.test('a peer that vanishes mid-close (never answers our close): 1006 after the close timeout', async (t) => {
  const { port, app, closes, opened } = await closeRecordingApp(t, 200)
  const { client } = await RawClient.open(port, '/watch')
  t.teardown(() => client.destroy())
  client.write(buildFrame({ opcode: OP.TEXT, payload: 'close-me' }))
  const close = await client.readClose()
  t.equal(close.code, 1000, 'the server started the closing handshake')
  // The peer neither answers nor closes TCP: the close timeout destroys the socket.
  await until(() => closes.get(opened[0])!.length > 0, 3000, 'close')
  t.same(closes.get(opened[0]), [1006])
  t.equal(app.websocketServer.clients.size, 0)
})

t.test('a peer that sends close then vanishes before the echo: one close event with its code', async (t) => {
  const { port, closes, opened } = await closeRecordingApp(t)
  const { client } = await RawClient.open(port, '/watch')
  await until(() => opened.length === 1, 3000, 'the handler')
  client.write(closeFrame(4001, 'gone'))
  client.destroy()
  await until(() => closes.get(opened[0])!.length > 0, 3000, 'close')
  await sleep(50)
  t.equal(closes.get(opened[0])!.length, 1, 'exactly once')
  t.ok([4001, 1006].includes(closes.get(opened[0])![0]), 'its code if the frame was read, else 1006')
})

t.test('a peer that vanishes mid-handshake leaves nothing behind', async (t) => {
  const { port, app, opened } = await closeRecordingApp(t)
  const request = handshakeRequest({ path: '/watch' })
  for (let cut = 10; cut < request.length; cut += 30) {
    const client = await RawClient.connect(port)
    client.write(request.subarray(0, cut))
    client.destroy()
  }
  await sleep(100)
  t.equal(opened.length, 0)
  t.equal(app.websocketServer.clients.size, 0)
  t.equal(await new Promise<number>((resolve) => app.server.getConnections((_e, n) => resolve(n))), 0, 'no connection left open')
})

t.test('10 000 connect / send / abrupt-disconnect cycles leave no growth', async (t) => {
  const { port, app } = await buildApp(t, { plugin: { closeTimeout: 300 } })
  const request = handshakeRequest({ path: '/echo' })
  const message = buildFrame({ opcode: OP.TEXT, payload: 'hello, then gone' })

  const cycle = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.on('error', () => {})
      socket.on('close', () => resolve())
      socket.once('connect', () => socket.write(request))
      socket.once('data', () => {
        // Half the peers send a frame first; some cut it short; then all vanish.
        socket.write(Math.random() < 0.5 ? message : message.subarray(0, 5))
        socket.destroy()
      })
    })
  }
  const run = async (count: number, concurrency: number): Promise<void> => {
    let started = 0
    const worker = async (): Promise<void> => {
      while (started < count) {
        started++
        await cycle()
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  }

  await run(500, 25) // warm up: JIT, pools, lazily created state
  await until(() => app.websocketServer.clients.size === 0, 5000, 'warm-up sockets to close')
  await sleep(50)
  gc()
  const before = { heap: process.memoryUsage().heapUsed, resources: process.getActiveResourcesInfo().length, upgradeListeners: app.server.listenerCount('upgrade') }

  await withTimeout(run(10_000, 50), 120_000, '10 000 cycles')
  await until(() => app.websocketServer.clients.size === 0, 5000, 'all sockets to close')
  await sleep(100)
  gc()
  const after = { heap: process.memoryUsage().heapUsed, resources: process.getActiveResourcesInfo().length, upgradeListeners: app.server.listenerCount('upgrade') }

  t.equal(app.websocketServer.clients.size, 0, 'no socket left in the registry')
  t.equal(await new Promise<number>((resolve) => app.server.getConnections((_e, n) => resolve(n))), 0, 'no TCP connection left')
  t.ok(after.resources <= before.resources + 2, `active handles and timers do not grow (${before.resources} -> ${after.resources})`)
  t.equal(after.upgradeListeners, before.upgradeListeners, 'no listener added per connection')
  const growth = after.heap - before.heap
  t.ok(growth < 8 * 1024 * 1024, `heap growth stays under 8 MiB after 10 000 cycles (${(growth / 1048576).toFixed(2)} MiB)`)
})

t.test('hostile clients do not disturb well-behaved ones', async (t) => {
  const { port, wsUrl } = await buildApp(t, { plugin: { maxMessageSize: 64 * 1024, closeTimeout: 300 } })
  const hostile: Array<Promise<unknown>> = []
  const stop = { now: false }

  // 1. A ping flood from a peer that never reads.
  hostile.push((async () => {
    const { client } = await RawClient.open(port, '/echo')
    const pings = Buffer.concat(Array.from({ length: 200 }, () => buildFrame({ opcode: OP.PING, payload: Buffer.alloc(125, 1) })))
    while (!stop.now && !client.closed) {
      client.socket.write(pings)
      await sleep(1)
    }
    client.destroy()
  })())
  // 2. Garbage bytes, a 2^63 length, an oversized message, invalid UTF-8, over and over.
  const bad = [
    Buffer.from('this is not a websocket frame at all'),
    Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]),
    buildFrame({ opcode: OP.BINARY, payload: Buffer.alloc(100 * 1024) }),
    buildFrame({ opcode: OP.TEXT, payload: Buffer.from([0xc3, 0x28]) })
  ]
  hostile.push((async () => {
    let i = 0
    while (!stop.now) {
      const { client } = await RawClient.open(port, '/echo')
      client.write(bad[i++ % bad.length])
      await client.waitClosed(3000).catch(() => client.destroy())
    }
  })())
  // 3. Connections that open and vanish.
  hostile.push((async () => {
    while (!stop.now) {
      const { client } = await RawClient.open(port, '/echo')
      client.destroy()
    }
  })())

  // Well-behaved clients, each expecting every message back, in order.
  const good = await Promise.all(Array.from({ length: 5 }, async (_v, index) => {
    const ws = new WsClient(`${wsUrl}/echo`)
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const received: string[] = []
    const expected = Array.from({ length: 300 }, (_v, n) => `client ${index} message ${n}`)
    const done = new Promise<void>((resolve) => {
      ws.on('message', (data) => {
        received.push(String(data))
        if (received.length === expected.length) resolve()
      })
    })
    for (const message of expected) {
      ws.send(message)
      await sleep(Math.random() < 0.1 ? 1 : 0)
    }
    await withTimeout(done, 20_000, `client ${index} echoes`)
    ws.close()
    return { received, expected }
  }))
  stop.now = true
  await withTimeout(Promise.all(hostile), 10_000, 'hostile clients to stop')
  for (const { received, expected } of good) t.same(received, expected)
})
