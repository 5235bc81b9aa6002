// Interop with `ws`'s own permessage-deflate over real sockets on 127.0.0.1, both roles:
// our client-side negotiation and codecs against a ws server, and a ws client against a
// minimal server built from our server-side negotiation and codecs.
import net from 'node:net'
import t, { type Test } from 'tap'
import WebSocket, { WebSocketServer, type PerMessageDeflateOptions as WsDeflateOptions } from 'ws'
import {
  MessageDeflater,
  MessageInflater,
  PENDING,
  ZlibConcurrencyLimiter,
  createDeflateCodecs,
  messageDeflaterOptions,
  resolvePerMessageDeflate,
  type DeflateOutcome,
  type InflateOutcome,
  type PerMessageDeflateOptions
} from '../../src/compression/index.js'
import {
  buildAcceptResponse,
  buildPerMessageDeflateOffer,
  deflateDirections,
  negotiatePerMessageDeflate,
  validatePerMessageDeflateResponse,
  WebSocketProtocolError
} from '../../src/protocol/index.js'
import { OP, buildFrame, parseFrame } from '../helpers/frames.js'
import { RawClient } from '../helpers/raw-client.js'
import { withTimeout } from '../helpers/wait.js'
import { jsonMessage } from '../helpers/deflate.js'
import { randomBytes, seededRandom } from '../helpers/seeded-random.js'

const limiter = new ZlibConcurrencyLimiter(4)

async function settle<T> (start: (callback: (outcome: T) => void) => T | typeof PENDING): Promise<T> {
  return await new Promise<T>((resolve) => {
    const result = start(resolve)
    if (result !== PENDING) resolve(result)
  })
}

function messages (seed: number): Array<{ data: Buffer, text: boolean }> {
  const random = seededRandom(seed)
  const first = jsonMessage(5000, seed)
  return [
    { data: first, text: true },
    { data: Buffer.from(first), text: true },
    { data: Buffer.from('short'), text: true },
    { data: randomBytes(random, 3000), text: false },
    { data: jsonMessage(200_000, seed + 1), text: true },
    { data: Buffer.from('€uro ✓ 😀'.repeat(300)), text: true },
    { data: Buffer.alloc(0), text: false }
  ]
}

const CONFIGS: Array<{ name: string, ws: WsDeflateOptions, ours: PerMessageDeflateOptions }> = [
  { name: 'defaults', ws: { threshold: 0 }, ours: { threshold: 0 } },
  { name: 'no context takeover (server asks)', ws: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true }, ours: { threshold: 0 } },
  { name: 'no context takeover (we ask)', ws: { threshold: 0 }, ours: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true } },
  { name: 'windows 9 and 10 (server limits)', ws: { threshold: 0, serverMaxWindowBits: 9, clientMaxWindowBits: 10 }, ours: { threshold: 0 } },
  { name: 'windows 8 and 8 (we ask)', ws: { threshold: 0 }, ours: { threshold: 0, serverMaxWindowBits: 8, clientMaxWindowBits: 8 } },
  { name: 'windows 12 and 11 (we ask)', ws: { threshold: 0 }, ours: { threshold: 0, serverMaxWindowBits: 12, clientMaxWindowBits: 11 } }
]

t.test('our client units against a ws server', async (t) => {
  for (const config of CONFIGS) {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: config.ws, maxPayload: 64 * 1024 * 1024 })
    await new Promise((resolve) => server.once('listening', resolve))
    server.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => { socket.send(data as Buffer, { binary: isBinary, compress: true }) })
    })
    t.teardown(() => server.close())
    const port = (server.address() as net.AddressInfo).port
    const resolved = resolvePerMessageDeflate(config.ours)
    if (resolved === null) throw new Error('unreachable')
    const offer = buildPerMessageDeflateOffer(resolved)
    const { client, response } = await RawClient.open(port, '/', { headers: { 'Sec-WebSocket-Extensions': offer } })
    t.teardown(() => client.destroy())
    t.equal(response.statusCode, 101)
    const verdict = validatePerMessageDeflateResponse(response.headers['sec-websocket-extensions'], resolved)
    if (!verdict.ok || verdict.params === null) {
      t.fail(`${config.name}: ${verdict.ok ? 'declined' : verdict.reason}`)
      continue
    }
    t.comment(`${config.name}: offer "${offer}", answer "${response.headers['sec-websocket-extensions']}"`)
    const directions = deflateDirections(verdict.params, 'client')
    const ourDeflater = new MessageDeflater(messageDeflaterOptions(resolved, directions.sendWindowBits, directions.sendContextTakeover, limiter))
    const ourInflater = new MessageInflater({
      windowBits: directions.receiveWindowBits, contextTakeover: directions.receiveContextTakeover, maxMessageSize: 64 * 1024 * 1024, limiter
    })
    let ok = 0
    const list = messages(config.name.length)
    for (const { data, text } of list) {
      const compressed = await settle<DeflateOutcome>((callback) => ourDeflater.deflate(data, callback))
      if (compressed instanceof Error) throw compressed
      client.write(buildFrame({ opcode: text ? OP.TEXT : OP.BINARY, payload: compressed, rsv1: true }))
      const frame = await client.readFrame(5000)
      if (!frame.rsv1) {
        t.fail(`${config.name}: ws did not compress its echo`)
        continue
      }
      const echoed = await settle<InflateOutcome>((callback) => ourInflater.inflate(frame.payload, text, callback))
      if (echoed instanceof WebSocketProtocolError) throw echoed
      if (echoed.equals(data) && frame.opcode === (text ? OP.TEXT : OP.BINARY)) ok++
    }
    t.equal(ok, list.length, `${config.name}: ${ok}/${list.length} messages echoed through ws`)
    client.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A minimal server: our negotiation in the handshake, our codecs on each message, echo. */
async function startOurServer (t: Test, options: PerMessageDeflateOptions): Promise<{ port: number, answers: string[] }> {
  const resolved = resolvePerMessageDeflate(options)
  if (resolved === null) throw new Error('unreachable')
  const answers: string[] = []
  const server = net.createServer((socket) => {
    let buffer = Buffer.alloc(0)
    let upgraded = false
    let deflater: MessageDeflater | null = null
    let inflater: MessageInflater | null = null
    let queue: Promise<void> = Promise.resolve()
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n')
        if (end === -1) return
        const lines = buffer.subarray(0, end).toString('latin1').split('\r\n').slice(1)
        buffer = buffer.subarray(end + 4)
        const headers = new Map<string, string>()
        for (const line of lines) {
          const colon = line.indexOf(':')
          const name = line.slice(0, colon).trim().toLowerCase()
          const value = line.slice(colon + 1).trim()
          headers.set(name, headers.has(name) ? `${headers.get(name) as string}, ${value}` : value)
        }
        const accepted = negotiatePerMessageDeflate(headers.get('sec-websocket-extensions'), resolved)
        answers.push(accepted?.header ?? '(declined)')
        const extra: Array<[string, string]> = accepted === null ? [] : [['Sec-WebSocket-Extensions', accepted.header]]
        socket.write(buildAcceptResponse(headers.get('sec-websocket-key') as string, undefined, extra))
        if (accepted !== null) {
          const codecs = createDeflateCodecs(resolved, accepted.params, 'server', { maxMessageSize: 64 * 1024 * 1024, limiter })
          deflater = codecs.deflater
          inflater = codecs.inflater
        }
        upgraded = true
      }
      for (;;) {
        const parsed = parseFrame(buffer)
        if (parsed === null) return
        buffer = buffer.subarray(parsed.length)
        const { frame } = parsed
        if (frame.opcode === OP.CLOSE) {
          socket.end(buildFrame({ opcode: OP.CLOSE, payload: frame.payload.subarray(0, 2), mask: false }))
          return
        }
        // The test peer sends whole messages (ws fragments nothing this small... or this large).
        queue = queue.then(async () => {
          let data = frame.payload
          const text = frame.opcode === OP.TEXT
          if (frame.rsv1) {
            if (inflater === null) throw new Error('RSV1 without negotiation')
            const inflaterNow = inflater
            const outcome = await settle<InflateOutcome>((callback) => inflaterNow.inflate(frame.payload, text, callback))
            if (outcome instanceof WebSocketProtocolError) throw outcome
            data = outcome
          }
          let rsv1 = false
          if (deflater?.shouldCompress(data.length) === true) {
            const deflaterNow = deflater
            const outcome = await settle<DeflateOutcome>((callback) => deflaterNow.deflate(data, callback))
            if (outcome instanceof Error) throw outcome
            data = outcome
            rsv1 = true
          }
          socket.write(buildFrame({ opcode: frame.opcode, payload: data, rsv1, mask: false }))
        })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  return { port: (server.address() as net.AddressInfo).port, answers }
}

t.test('a ws client against our server units', async (t) => {
  // Here `ws` is the client: its options are what it offers, ours what the server allows.
  const cases: Array<{ name: string, ws: WsDeflateOptions, ours: PerMessageDeflateOptions }> = [
    { name: 'defaults', ws: { threshold: 0 }, ours: { threshold: 0 } },
    { name: 'ws asks for no context takeover both ways', ws: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true }, ours: { threshold: 0 } },
    { name: 'we impose no context takeover both ways', ws: { threshold: 0 }, ours: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true } },
    { name: 'ws asks for windows 8 and 9', ws: { threshold: 0, serverMaxWindowBits: 8, clientMaxWindowBits: 9 }, ours: { threshold: 0 } },
    { name: 'we impose windows 10 and 11', ws: { threshold: 0 }, ours: { threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 11 } },
    { name: 'our threshold leaves small replies uncompressed', ws: { threshold: 0 }, ours: { threshold: 1024 } }
  ]
  for (const config of cases) {
    const { port, answers } = await startOurServer(t, config.ours)
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: config.ws, maxPayload: 64 * 1024 * 1024 })
    t.teardown(() => ws.terminate())
    await withTimeout(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) }), 5000, 'ws open')
    t.comment(`${config.name}: we answered "${answers[0]}"; ws agreed "${ws.extensions}"`)
    t.match(ws.extensions, /^permessage-deflate/, `${config.name}: negotiated`)
    const list = messages(config.name.length + 100)
    let ok = 0
    for (const { data, text } of list) {
      const reply = withTimeout(new Promise<[Buffer, boolean]>((resolve) => ws.once('message', (got, isBinary) => resolve([got as Buffer, isBinary]))), 5000, 'echo')
      ws.send(text ? data.toString() : data, { binary: !text, compress: true })
      const [got, isBinary] = await reply
      if (got.equals(data) && isBinary === !text) ok++
    }
    t.equal(ok, list.length, `${config.name}: ${ok}/${list.length} messages echoed through our codecs`)
    ws.close()
  }
})
