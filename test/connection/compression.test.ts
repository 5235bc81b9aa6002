/**
 * permessage-deflate at the connection level (RFC 7692), over an in-memory pair with a raw
 * peer that compresses and inflates with zlib itself: what goes out with RSV1 and what does
 * not, order on the wire while the thread pool works, order of delivery while it inflates,
 * and how corrupt, oversized and misframed compressed input fails the connection.
 */
import zlib from 'node:zlib'
import t, { type Test } from 'tap'
import { ZlibConcurrencyLimiter, resolvePerMessageDeflate, type PerMessageDeflateOptions } from '../../src/compression/index.js'
import { createDuplexPair, createWebSocket, connectionOf, type WebSocketOptions } from '../../src/connection/index.js'
import { PublishedMessage } from '../../src/connection/published-message.js'
import { negotiatePerMessageDeflate } from '../../src/protocol/index.js'
import { EVENTS, EventLog, sleep, until } from '../helpers/wait.js'
import { OP, clientFrame, type ParsedFrame } from '../helpers/frames.js'
import { ByteSink, openRaw } from '../helpers/pair.js'

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff])
const RSV1 = 0x40

/** What a connection gets once permessage-deflate was agreed for `offer`. */
function negotiated (options: boolean | PerMessageDeflateOptions = true, offer = 'permessage-deflate; client_max_window_bits'): WebSocketOptions['perMessageDeflate'] {
  const resolved = resolvePerMessageDeflate(options)!
  const accepted = negotiatePerMessageDeflate(offer, resolved)!
  return { options: resolved, params: accepted.params, header: accepted.header, limiter: new ZlibConcurrencyLimiter(resolved.concurrencyLimit) }
}

/** RFC 7692 §7.2.1 as a peer does it: deflate, strip the tail. One message, no context. */
function deflateMessage (data: Buffer | string): Buffer {
  const out = zlib.deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
  return out.subarray(0, out.length - 4)
}

/** A client's compressed frame: RSV1 on the first frame (RFC 7692 §6). */
function compressedFrame (opcode: number, data: Buffer | string, fin = true): Buffer {
  const frame = clientFrame(opcode, deflateMessage(data), { fin: fin })
  frame[0] |= RSV1
  return frame
}

/** Inflates what the socket under test sent, message by message, keeping the window. */
class PeerInflater {
  private readonly inflate = zlib.createInflateRaw({ windowBits: 15 })
  async message (payload: Buffer): Promise<Buffer> {
    const chunks: Buffer[] = []
    const onData = (chunk: Buffer): void => { chunks.push(chunk) }
    this.inflate.on('data', onData)
    this.inflate.write(Buffer.concat([payload, TAIL]))
    await new Promise<void>((resolve) => this.inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()))
    this.inflate.removeListener('data', onData)
    return Buffer.concat(chunks)
  }
}

function json (bytes: number): string {
  const items: string[] = []
  let length = 2
  for (let i = 0; length < bytes; i++) {
    const item = JSON.stringify({ id: i, user: `user-${i % 17}`, text: 'the quick brown fox jumps over the lazy dog', at: 1700000000 + i })
    items.push(item)
    length += item.length + 1
  }
  return `[${items.join(',')}]`.slice(0, bytes - 1) + ']'
}

t.test('what goes out compressed: whole messages from the threshold up, never fragments, never when opted out', async (t) => {
  const { socket, received } = openRaw(t, { perMessageDeflate: negotiated() })
  const big = json(4000)
  socket.send('small') // under the 1 KiB threshold
  socket.send(big)
  socket.send(big, { compress: false })
  socket.send(big.slice(0, 2000), { fin: false })
  socket.send(big.slice(2000))
  const frames = await received.waitFrames(5)
  const peer = new PeerInflater()
  t.same(frames.map((f: ParsedFrame) => [f.opcode, f.rsv1, f.fin]), [
    [OP.TEXT, false, true],
    [OP.TEXT, true, true],
    [OP.TEXT, false, true],
    [OP.TEXT, false, false],
    [OP.CONT, false, true]
  ], 'RSV1 only on the whole message over the threshold')
  t.equal(frames[0].payload.toString(), 'small')
  t.ok(frames[1].payload.length < big.length / 2, `compressed ${big.length} -> ${frames[1].payload.length} bytes`)
  t.equal((await peer.message(frames[1].payload)).toString(), big, 'it inflates to the message (tail removed, RFC 7692 §7.2.1)')
  t.equal(frames[2].payload.toString(), big)
  t.equal(socket.extensions, 'permessage-deflate')
})

t.test('context takeover: the second of two alike messages refers back to the first', async (t) => {
  const { socket, received } = openRaw(t, { perMessageDeflate: negotiated() })
  const message = json(3000)
  socket.send(message)
  socket.send(message)
  const frames = await received.waitFrames(2)
  t.ok(frames[1].payload.length < frames[0].payload.length / 4, `${frames[0].payload.length} then ${frames[1].payload.length} bytes`)
  const peer = new PeerInflater()
  t.equal((await peer.message(frames[0].payload)).toString(), message)
  t.equal((await peer.message(frames[1].payload)).toString(), message, 'a peer keeping its window inflates the second')
})

t.test('server_no_context_takeover: every message stands alone', async (t) => {
  const { socket, received } = openRaw(t, { perMessageDeflate: negotiated({ serverNoContextTakeover: true }) })
  t.equal(socket.extensions, 'permessage-deflate; server_no_context_takeover')
  const message = json(3000)
  socket.send(message)
  socket.send(message)
  const frames = await received.waitFrames(2)
  t.same(frames[1].payload, frames[0].payload, 'identical bytes: no reference to the first')
  t.equal(zlib.inflateRawSync(Buffer.concat([frames[1].payload, TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString(), message, 'inflates with no history')
})

t.test('order on the wire while the thread pool compresses: data, then what was sent after, then the close', async (t) => {
  const { socket, received } = openRaw(t, { perMessageDeflate: negotiated(), closeTimeout: 200 })
  const big = json(600_000) // over the sync limit: compressed in the thread pool
  const done: string[] = []
  socket.send(big, () => done.push('big'))
  socket.send('after', () => done.push('after'))
  socket.send(Buffer.alloc(5000, 1), () => done.push('binary'))
  t.ok(socket.bufferedAmount >= big.length, `bufferedAmount ${socket.bufferedAmount} counts the message being compressed`)
  socket.ping('p') // control frames may go between messages (RFC 6455 §5.4)
  socket.close(1000, 'bye')
  t.equal(socket.readyState, socket.CLOSING)
  t.equal(socket.send('too late'), false, 'nothing is accepted after close()')
  const frames = await received.waitFrames(5, 10_000)
  t.same(frames.map((f) => [f.opcode, f.rsv1]), [
    [OP.PING, false],
    [OP.TEXT, true],
    [OP.TEXT, false],
    [OP.BINARY, true],
    [OP.CLOSE, false]
  ], 'the ping went at once; the messages in the order sent; the close after them')
  const peer = new PeerInflater()
  t.equal((await peer.message(frames[1].payload)).toString(), big)
  t.equal(frames[2].payload.toString(), 'after')
  t.same(await peer.message(frames[3].payload), Buffer.alloc(5000, 1))
  t.equal(frames[4].closeCode, 1000)
  await until(() => done.length === 3)
  t.same(done, ['big', 'after', 'binary'], 'callbacks in order')
})

t.test('a connection that closes with messages still being compressed: their callbacks get an error', async (t) => {
  const { socket, peer } = openRaw(t, { perMessageDeflate: negotiated() })
  const errors: Array<Error | null | undefined> = []
  socket.send(json(600_000), (error) => errors.push(error))
  socket.send('queued', (error) => errors.push(error))
  peer.destroy()
  await until(() => errors.length === 2)
  t.ok(errors.every((error) => error instanceof Error), 'both report that they were not sent')
})

t.test('inflating: small messages at once, large ones in the thread pool, and events keep their order', async (t) => {
  const { socket, peer } = openRaw(t, { perMessageDeflate: negotiated(), maxMessageSize: 8 * 1024 * 1024 })
  const log = new EventLog(socket, EVENTS)
  const large = Buffer.from(json(2_000_000)) // about 200 KiB compressed: over the sync limit
  peer.write(Buffer.concat([
    compressedFrame(OP.TEXT, 'hello, compressed'),
    compressedFrame(OP.BINARY, large),
    clientFrame(OP.TEXT, 'plain after'),
    clientFrame(OP.PING, 'p'),
    compressedFrame(OP.TEXT, 'small again')
  ]))
  await log.nth('message', 4, 10_000)
  t.same(log.events.map((e) => e[0]), ['message', 'message', 'message', 'ping', 'message'])
  const messages = log.of('message') as Array<[Buffer, boolean]>
  t.equal(messages[0][0].toString(), 'hello, compressed')
  t.equal(messages[0][1], false)
  t.ok(messages[1][0].equals(large), 'the large one, inflated')
  t.equal(messages[1][1], true)
  t.equal(messages[2][0].toString(), 'plain after')
  t.equal(messages[3][0].toString(), 'small again')
})

t.test('a compressed message fragmented over several frames, RSV1 on the first only', async (t) => {
  const { socket, peer } = openRaw(t, { perMessageDeflate: negotiated() })
  const log = new EventLog(socket, EVENTS)
  const compressed = deflateMessage(json(5000))
  const first = clientFrame(OP.TEXT, compressed.subarray(0, 100), { fin: false })
  first[0] |= RSV1
  peer.write(Buffer.concat([first, clientFrame(OP.CONT, compressed.subarray(100, 300), { fin: false }), clientFrame(OP.CONT, compressed.subarray(300))]))
  const [data] = await log.nth('message') as [Buffer]
  t.equal(data.toString(), json(5000))
})

/** The raw peer's view of how the socket failed: the close frame it got and the error event. */
async function failure (t: Test, input: Buffer, options: WebSocketOptions = {}): Promise<{ code: string, closeCode: number | undefined, message: string }> {
  const { socket, peer, received } = openRaw(t, { perMessageDeflate: negotiated(), closeTimeout: 200, ...options })
  const log = new EventLog(socket, EVENTS)
  peer.on('end', () => peer.end())
  peer.write(input)
  const [error] = await log.nth('error', 1, 5000) as [{ code: string, message: string }]
  const frames = await received.waitFrames(1)
  return { code: error.code, closeCode: frames.at(-1)?.closeCode, message: error.message }
}

t.test('corrupt compressed data: 1007', async (t) => {
  const garbage = clientFrame(OP.TEXT, Buffer.from('this is not deflate data at all, just bytes 0123456789'))
  garbage[0] |= RSV1
  t.match(await failure(t, garbage), { code: 'WS_ERR_INVALID_COMPRESSED_DATA', closeCode: 1007 })
})

t.test('a zip bomb: 1009 once the inflated size passes maxMessageSize', async (t) => {
  const bomb = compressedFrame(OP.BINARY, Buffer.alloc(64 * 1024 * 1024))
  t.ok(bomb.length < 100_000, `64 MiB of zeros in a ${bomb.length}-byte frame`)
  t.match(await failure(t, bomb, { maxMessageSize: 1024 * 1024 }), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009 })
})

t.test('invalid UTF-8 in a compressed text message: 1007', async (t) => {
  const frame = compressedFrame(OP.TEXT, Buffer.concat([Buffer.from('valid, then '), Buffer.from([0xff, 0xfe])]))
  t.match(await failure(t, frame), { code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 })
})

t.test('RSV1 on a continuation or a control frame: 1002', async (t) => {
  const continuation = clientFrame(OP.CONT, 'x')
  continuation[0] |= RSV1
  t.match(await failure(t, Buffer.concat([clientFrame(OP.TEXT, 'a', { fin: false }), continuation])), { code: 'WS_ERR_UNEXPECTED_RSV_1', closeCode: 1002 })
  const ping = clientFrame(OP.PING, 'x')
  ping[0] |= RSV1
  t.match(await failure(t, ping), { code: 'WS_ERR_UNEXPECTED_RSV_1', closeCode: 1002 })
})

t.test('RSV1 without the extension negotiated: 1002', async (t) => {
  const frame = compressedFrame(OP.TEXT, 'x')
  t.match(await failure(t, frame, { perMessageDeflate: undefined }), { code: 'WS_ERR_UNEXPECTED_RSV_1', closeCode: 1002 })
})

t.test('a compressed message over maxMessageSize on the wire is refused from its length, before inflating', async (t) => {
  const frame = clientFrame(OP.BINARY, Buffer.alloc(3000))
  frame[0] |= RSV1
  t.match(await failure(t, frame, { maxMessageSize: 1000 }), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009 })
})

t.test('client and server on the same codec, with every window size both ways', async (t) => {
  for (const bits of [8, 9, 12, 15]) {
    const [serverEnd, clientEnd] = createDuplexPair()
    const offer = `permessage-deflate; server_max_window_bits=${bits}; client_max_window_bits=${bits}`
    const server = createWebSocket(serverEnd, { role: 'server', perMessageDeflate: negotiated(true, offer) })
    const client = createWebSocket(clientEnd, { role: 'client', perMessageDeflate: negotiated(true, offer) })
    t.teardown(() => { server.terminate(); client.terminate() })
    server.on('message', (data, isBinary) => server.send(data, { binary: isBinary }))
    const log = new EventLog(client, EVENTS)
    const messages = [json(2000), json(2000), json(70_000), 'short']
    for (const message of messages) client.send(message)
    await log.nth('message', messages.length, 10_000)
    t.same(log.of('message').map((e) => (e[0] as Buffer).toString()), messages, `window ${bits}`)
    t.match(server.extensions, `server_max_window_bits=${bits}`)
  }
})

t.test('publish compresses once for every subscriber that shares settings without context takeover', async (t) => {
  const sockets = Array.from({ length: 5 }, () => {
    const [end, peer] = createDuplexPair()
    const socket = createWebSocket(end, { role: 'server', perMessageDeflate: negotiated({ serverNoContextTakeover: true }) })
    t.teardown(() => { socket.terminate(); peer.destroy() })
    return { socket, received: new ByteSink(peer) }
  })
  const payload = Buffer.from(json(3000))
  const message = new PublishedMessage(payload, false)
  for (const { socket } of sockets) t.equal(connectionOf(socket).sendPublished(message), true)
  t.equal(message.shared().compressions, 1, 'one compression for five sockets')
  const frames = await Promise.all(sockets.map(async ({ received }) => (await received.waitFrames(1))[0]))
  t.ok(frames.every((f) => f.rsv1 && f.payload.equals(frames[0].payload)), 'the same compressed frame for all')
  t.equal(zlib.inflateRawSync(Buffer.concat([frames[0].payload, TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString(), payload.toString())
})

t.test('publish with context takeover compresses per socket, in order with its own sends', async (t) => {
  const { socket, received } = openRaw(t, { perMessageDeflate: negotiated() })
  const payload = Buffer.from(json(3000))
  socket.send(payload)
  connectionOf(socket).sendPublished(new PublishedMessage(payload, false))
  const frames = await received.waitFrames(2)
  const peer = new PeerInflater()
  t.equal((await peer.message(frames[0].payload)).toString(), payload.toString())
  t.equal((await peer.message(frames[1].payload)).toString(), payload.toString(), 'the published one continues the same window')
  t.ok(frames[1].payload.length < frames[0].payload.length / 4)
})

t.test('sending after the peer went away while compressing: no throw, the callback reports it', async (t) => {
  const { socket, peer } = openRaw(t, { perMessageDeflate: negotiated() })
  peer.destroy()
  await sleep(10)
  let error: Error | null | undefined
  t.equal(socket.send(json(2000), (e) => { error = e }), false)
  await until(() => error !== undefined)
  t.ok(error instanceof Error)
})

