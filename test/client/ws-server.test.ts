/**
 * Our client (`connect`) against the `ws` package's server, an independent implementation:
 * echo across every length encoding, fragmentation, ping/pong and close codes both ways,
 * subprotocol selection. `ws` rejects unmasked client frames, so every round trip also
 * proves that the client masks.
 */
import t from 'tap'
import { WebSocketServer, type WebSocket as WsSocket, type RawData } from 'ws'
import { connect, WebSocketHandshakeError, type ClientOptions, type WebSocket } from '../../src/index.js'
import { EVENTS, EventLog, WAIT, deferred, turn, withTimeout } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'
import { checkEchoMatrix } from '../helpers/echo-matrix.js'

/** A `ws` server on 127.0.0.1, port 0, closed at teardown with every connection it has. */
async function wsServer (t: Teardown, options: ConstructorParameters<typeof WebSocketServer>[0] = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options })
  t.teardown(async () => {
    for (const client of wss.clients) client.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })
  await withTimeout(new Promise<void>((resolve) => wss.once('listening', resolve)), WAIT, 'ws server listening')
  const address = wss.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  /** The server side of the next connection. */
  const nextConnection = async (): Promise<WsSocket> => await withTimeout(
    new Promise<WsSocket>((resolve) => wss.once('connection', (ws) => resolve(ws))), WAIT, 'a ws server connection')
  return { wss, url: `ws://127.0.0.1:${address.port}`, nextConnection }
}

/** Our client, terminated at teardown, with an event log attached from the first moment. */
async function open (t: Teardown, url: string, options?: ClientOptions): Promise<{ socket: WebSocket, log: EventLog }> {
  const socket = await withTimeout(connect(url, options), WAIT, `connect ${url}`)
  t.teardown(() => socket.terminate())
  return { socket, log: new EventLog(socket, EVENTS) }
}

function toBuffer (data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

function echo (ws: WsSocket): void {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
}

t.test('echo through a ws server, text and binary, across every length encoding', async (t) => {
  const { wss, url } = await wsServer(t)
  wss.on('connection', echo)
  const { socket, log } = await open(t, url)
  t.equal(socket.readyState, socket.OPEN, 'open when connect resolves')
  t.equal(socket.protocol, '', 'no subprotocol')
  await checkEchoMatrix(t, socket, log, 7)
})

t.test('fragmented messages both ways', async (t) => {
  const { url, nextConnection } = await wsServer(t)
  const serverSide = nextConnection()
  const { socket, log } = await open(t, url)
  const server = await serverSide
  const received = deferred<[Buffer, boolean]>()
  server.on('message', (data, isBinary) => received.resolve([toBuffer(data), isBinary]))

  socket.send('frag', { fin: false })
  socket.send('men', { fin: false })
  socket.send('ted')
  const [data, isBinary] = await received.wait()
  t.equal(data.toString(), 'fragmented', 'ws got one message from our three frames')
  t.equal(isBinary, false)

  server.send(Buffer.from([1, 2]), { fin: false, binary: true })
  server.send(Buffer.from([3, 4]), { fin: true, binary: true })
  const [bin, binIsBinary] = await log.nth('message') as [Buffer, boolean]
  t.same([...bin], [1, 2, 3, 4], 'we got one message from its two frames')
  t.equal(binIsBinary, true)
})

t.test('ping and pong both ways', async (t) => {
  const { url, nextConnection } = await wsServer(t)
  const serverSide = nextConnection()
  const { socket, log } = await open(t, url)
  const server = await serverSide
  const serverPing = deferred<Buffer>()
  const serverPong = deferred<Buffer>()
  server.on('ping', (data) => serverPing.resolve(data))
  server.on('pong', (data) => serverPong.resolve(data))

  socket.ping('from client')
  t.equal((await serverPing.wait()).toString(), 'from client', 'ws saw our ping')
  const [pong] = await log.nth('pong') as [Buffer]
  t.equal(pong.toString(), 'from client', 'ws answered with the same payload')

  server.ping('from ws')
  const [ping] = await log.nth('ping') as [Buffer]
  t.equal(ping.toString(), 'from ws')
  t.equal((await serverPong.wait()).toString(), 'from ws', 'our automatic pong reached ws')
})

t.test('close initiated by the client reaches ws with its code and reason', async (t) => {
  const { url, nextConnection } = await wsServer(t)
  const serverSide = nextConnection()
  const { socket, log } = await open(t, url)
  const server = await serverSide
  const serverClose = deferred<[number, string]>()
  server.on('close', (code, reason) => serverClose.resolve([code, reason.toString()]))
  socket.close(4001, 'client bye')
  t.same(await serverClose.wait(), [4001, 'client bye'])
  const [code] = await log.nth('close') as [number, Buffer]
  t.equal(code, 4001, 'ws echoed the code')
  await turn()
  t.equal(log.count('close'), 1)
  t.equal(socket.readyState, socket.CLOSED)
})

t.test('close initiated by ws reaches the client with its code and reason', async (t) => {
  const { url, nextConnection } = await wsServer(t)
  const serverSide = nextConnection()
  const { socket, log } = await open(t, url)
  const server = await serverSide
  const serverClose = deferred<number>()
  server.on('close', (code) => serverClose.resolve(code))
  server.close(4002, 'server bye')
  const [code, reason] = await log.nth('close') as [number, Buffer]
  t.equal(code, 4002)
  t.equal(reason.toString(), 'server bye')
  t.equal(await serverClose.wait(), 4002, 'ws got our echo')
  t.equal(socket.readyState, socket.CLOSED)
  t.equal(log.count('error'), 0)
})

t.test('close without a code, and 1000 and 1001 from ws', async (t) => {
  const { url, nextConnection } = await wsServer(t)
  for (const code of [undefined, 1000, 1001]) {
    const serverSide = nextConnection()
    const { log } = await open(t, url)
    const server = await serverSide
    if (code === undefined) server.close()
    else server.close(code)
    const [received] = await log.nth('close') as [number]
    t.equal(received, code ?? 1005, `ws closed with ${String(code)}: we report ${code ?? 1005}`)
  }
})

t.test('subprotocol: ws picks "b" from ["a", "b"]', async (t) => {
  const offered = deferred<string[]>()
  const { url, nextConnection } = await wsServer(t, {
    handleProtocols: (protocols) => {
      offered.resolve([...protocols])
      return protocols.has('b') ? 'b' : false
    }
  })
  const serverSide = nextConnection()
  const { socket } = await open(t, url, { protocols: ['a', 'b'] })
  t.same(await offered.wait(), ['a', 'b'], 'offered in order')
  t.equal(socket.protocol, 'b')
  t.equal((await serverSide).protocol, 'b')
})

t.test('subprotocol: a ws server that picks a protocol we did not offer -> connect rejects', async (t) => {
  const { url } = await wsServer(t, { handleProtocols: () => 'c' })
  const error = await withTimeout(connect(url, { protocols: ['a', 'b'] }).then(
    (socket) => { socket.terminate(); return null },
    (e: unknown) => e
  ), WAIT, 'connect to settle')
  t.type(error, WebSocketHandshakeError)
  t.match((error as WebSocketHandshakeError).message, /subprotocol/)
})

t.test('custom headers and the path with its query reach the ws server', async (t) => {
  const seen = deferred<{ url?: string, auth?: string, cookie?: string | string[], host?: string }>()
  const { wss, url } = await wsServer(t)
  wss.on('connection', (_ws, request) => seen.resolve({
    url: request.url,
    auth: request.headers.authorization,
    cookie: request.headers.cookie,
    host: request.headers.host
  }))
  await open(t, `${url}/room/1?user=ann&x=%20`, { headers: { authorization: 'Bearer abc', cookie: 'a=1' } })
  const request = await seen.wait()
  t.equal(request.url, '/room/1?user=ann&x=%20')
  t.equal(request.auth, 'Bearer abc')
  t.equal(request.cookie, 'a=1')
  t.equal(request.host, url.slice('ws://'.length))
})

t.test('a ws server with a smaller maxPayload closes our too-big message with 1009', async (t) => {
  const { wss, url } = await wsServer(t, { maxPayload: 100 })
  wss.on('connection', (ws) => ws.on('error', () => {}))
  const { socket, log } = await open(t, url)
  socket.send(Buffer.alloc(101))
  const [code] = await log.nth('close') as [number]
  t.equal(code, 1009)
})
