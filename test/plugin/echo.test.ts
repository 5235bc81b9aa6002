/**
 * Echo over real sockets with the `ws` package as an independent client: sizes across every
 * length encoding, text stays text and binary stays binary, fragmentation both ways, and
 * ping/pong both ways.
 */
import { randomBytes } from 'node:crypto'
import t from 'tap'
import type { WebSocket } from '../../src/index.js'
import { buildApp, closeEvent, nextMessage, openWs } from '../helpers/app.js'
import { deferred } from '../helpers/wait.js'
import { text } from '../helpers/payloads.js'

const MiB = 1024 * 1024
const SIZES: Array<[string, number]> = [
  ['0 B', 0],
  ['125 B', 125],
  ['126 B', 126],
  ['64 KiB', 64 * 1024],
  ['1 MiB', MiB],
  ['16 MiB', 16 * MiB]
]

t.test('echo sizes over every length encoding', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { maxMessageSize: 16 * MiB } })
  const client = await openWs(t, `${wsUrl}/echo`)

  for (const [label, size] of SIZES) {
    const timeout = size >= MiB ? 15000 : 3000
    await t.test(`text ${label}`, async (t) => {
      const sent = text(size)
      const received = nextMessage(client, timeout)
      client.send(sent)
      const { data, isBinary } = await received
      t.equal(isBinary, false, 'text comes back as text')
      t.equal(data.length, size)
      t.ok(data.toString('utf8') === sent, 'same content')
    })
    await t.test(`binary ${label}`, async (t) => {
      const sent = randomBytes(size)
      const received = nextMessage(client, timeout)
      client.send(sent)
      const { data, isBinary } = await received
      t.equal(isBinary, true, 'binary comes back as binary')
      t.equal(data.length, size)
      t.ok(data.equals(sent), 'same content')
    })
  }
})

t.test('multi-byte UTF-8 text round trips', async (t) => {
  const { wsUrl } = await buildApp(t)
  const client = await openWs(t, `${wsUrl}/echo`)
  const sent = 'héllo wörld — €uro 😀 日本語 '.repeat(50)
  const received = nextMessage(client)
  client.send(sent)
  const { data, isBinary } = await received
  t.equal(isBinary, false)
  t.equal(data.toString('utf8'), sent)
})

t.test('maxMessageSize is inclusive: a message of exactly the limit passes, one byte more gets 1009', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { maxMessageSize: 1000 } })
  const client = await openWs(t, `${wsUrl}/echo`)
  const received = nextMessage(client)
  client.send(Buffer.alloc(1000, 7))
  t.equal((await received).data.length, 1000)

  const closed = closeEvent(client)
  client.send(Buffer.alloc(1001, 7))
  t.equal((await closed).code, 1009)
})

t.test('maxMessageSize counts across fragments', async (t) => {
  const { wsUrl } = await buildApp(t, { plugin: { maxMessageSize: 1000 } })
  const client = await openWs(t, `${wsUrl}/echo`)
  const closed = closeEvent(client)
  client.send(Buffer.alloc(600), { fin: false })
  client.send(Buffer.alloc(600), { fin: true })
  t.equal((await closed).code, 1009)
})

t.test('fragmented messages from the client arrive as one message', async (t) => {
  const { wsUrl } = await buildApp(t)
  const client = await openWs(t, `${wsUrl}/echo`)

  await t.test('text in three fragments', async (t) => {
    const received = nextMessage(client)
    client.send('Hello, ', { fin: false })
    client.send('fragmented ', { fin: false })
    client.send('world', { fin: true })
    const { data, isBinary } = await received
    t.equal(isBinary, false)
    t.equal(data.toString(), 'Hello, fragmented world')
  })

  await t.test('binary in fragments, one of them empty', async (t) => {
    const parts = [randomBytes(100), Buffer.alloc(0), randomBytes(70000)]
    const received = nextMessage(client)
    client.send(parts[0], { fin: false })
    client.send(parts[1], { fin: false })
    client.send(parts[2], { fin: true })
    const { data, isBinary } = await received
    t.equal(isBinary, true)
    t.ok(data.equals(Buffer.concat(parts)), 'fragments joined in order')
  })

  await t.test('a multi-byte character split across fragments is valid text', async (t) => {
    const bytes = Buffer.from('a€b😀c', 'utf8')
    // Cut inside the euro sign and inside the emoji: the validator must carry the partial sequence.
    const cuts = [2, 3, 6, 8, bytes.length]
    const received = nextMessage(client)
    let start = 0
    for (const [i, cut] of cuts.entries()) {
      client.send(bytes.subarray(start, cut), { binary: false, fin: i === cuts.length - 1 })
      start = cut
    }
    const { data, isBinary } = await received
    t.equal(isBinary, false)
    t.equal(data.toString('utf8'), 'a€b😀c')
  })

  await t.test('a ping between fragments is answered and does not break the message', async (t) => {
    const pong = deferred<Buffer>()
    client.once('pong', (data) => pong.resolve(data))
    const received = nextMessage(client)
    client.send('first ', { fin: false })
    client.ping('mid')
    client.send('last', { fin: true })
    t.equal((await pong.wait()).toString(), 'mid')
    t.equal((await received).data.toString(), 'first last')
  })
})

t.test('fragmented messages from the server arrive as one message', async (t) => {
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/fragments', { websocket: true }, (socket) => {
        socket.send('frag', { fin: false })
        socket.send('men', { fin: false })
        socket.send('ted', { fin: true })
        socket.send(Buffer.from([1, 2]), { fin: false })
        socket.send(Buffer.from([3]), { fin: true })
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/fragments`)
  const messages = [await nextMessage(client), await nextMessage(client)]
  t.equal(messages[0].data.toString(), 'fragmented')
  t.equal(messages[0].isBinary, false)
  t.same([...messages[1].data], [1, 2, 3])
  t.equal(messages[1].isBinary, true)
})

t.test('ping from the client: pong with the same payload, and a server ping event', async (t) => {
  const serverPing = deferred<Buffer>()
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/ping', { websocket: true }, (socket) => {
        socket.on('ping', (data) => serverPing.resolve(data))
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/ping`)
  const pong = deferred<Buffer>()
  client.on('pong', (data) => pong.resolve(data))
  client.ping(Buffer.from('are you there?'))
  t.equal((await pong.wait(3000, 'the pong')).toString(), 'are you there?')
  t.equal((await serverPing.wait()).toString(), 'are you there?')
})

t.test('empty and 125-byte pings are answered', async (t) => {
  const { wsUrl } = await buildApp(t)
  const client = await openWs(t, `${wsUrl}/echo`)
  for (const payload of [Buffer.alloc(0), randomBytes(125)]) {
    const pong = deferred<Buffer>()
    client.once('pong', (data) => pong.resolve(data))
    client.ping(payload)
    t.ok((await pong.wait()).equals(payload), `pong of ${payload.length} bytes`)
  }
})

t.test('ping from the server: the client pongs, and the server gets a pong event', async (t) => {
  const serverPong = deferred<Buffer>()
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/ping', { websocket: true }, (socket) => {
        socket.on('pong', (data) => serverPong.resolve(data))
        socket.on('message', () => socket.ping('heartbeat'))
      })
    }
  })
  const client = await openWs(t, `${wsUrl}/ping`)
  const clientPing = deferred<Buffer>()
  client.on('ping', (data) => clientPing.resolve(data))
  client.send('go')
  t.equal((await clientPing.wait()).toString(), 'heartbeat', 'the client saw the ping')
  t.equal((await serverPong.wait()).toString(), 'heartbeat', 'the server saw the pong')
})

t.test('server ping over 125 bytes throws RangeError', async (t) => {
  const result = deferred<unknown>()
  const { wsUrl } = await buildApp(t, {
    setup (app) {
      app.get('/big-ping', { websocket: true }, (socket: WebSocket) => {
        try {
          socket.ping(Buffer.alloc(126))
          result.resolve('no throw')
        } catch (error) {
          result.resolve(error)
        }
      })
    }
  })
  await openWs(t, `${wsUrl}/big-ping`)
  t.type(await result.wait(), RangeError)
})
