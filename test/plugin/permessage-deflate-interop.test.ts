/**
 * permessage-deflate end to end through the plugin, over real sockets, with `ws` as the
 * independent peer and with our own client: compression on in both directions, every size of
 * LADDER (0 B to 16 MiB, both sides of every crossover: the 1 KiB threshold, 4 KiB sync
 * deflate, 16 KiB / 128 KiB sync inflate, the 32 KiB window, the 64 KiB length encoding), text
 * and binary, whole and fragmented. What crossed the wire is read from the server's own TCP
 * socket (tapSocket): which messages had RSV1, and in how many frames.
 *
 * The server is the echo app (perMessageDeflate: true, so its threshold is 1 KiB; 64 MiB
 * messages); the last test turns the roles round: our client against a `ws` server. test/compression/ws-interop.test.ts covers the compression units against ws
 * without the plugin; this file goes through the plugin, the connection and the client.
 */
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { WebSocketServer } from 'ws'
import { buildApp, closeEvent, nextMessage, openWs } from '../helpers/app.js'
import { LADDER, binaryPayload, sizeLabel, textPayload } from '../helpers/deflate-payloads.js'
import { tapSocket, type SocketTap } from '../helpers/wire-tap.js'
import { connect, type WebSocket as OurWebSocket } from '../../src/index.js'

const MAX = 64 * 1024 * 1024
const THRESHOLD = 1024
/** Generous: a 16 MiB message is deflated and inflated twice on a loaded 2-core machine. */
const WAIT = 60_000

const taps: SocketTap[] = []
const received: Array<Array<{ length: number, isBinary: boolean }>> = []
const { wsUrl } = await buildApp(t, {
  plugin: { maxMessageSize: MAX, perMessageDeflate: true },
  noEcho: true,
  setup (app) {
    app.get('/', { websocket: true }, (socket, request) => {
      taps.push(tapSocket(request.raw.socket))
      const log: Array<{ length: number, isBinary: boolean }> = []
      received.push(log)
      socket.on('message', (data, isBinary) => {
        log.push({ length: data.length, isBinary })
        socket.send(data, { binary: isBinary })
      })
    })
  }
})

interface Step {
  label: string
  data: Buffer
  binary: boolean
  /** Pieces the client sends it in (1: whole). */
  pieces: number
}

function steps (pieces: (size: number) => number): Step[] {
  const out: Step[] = []
  for (const size of LADDER) {
    out.push({ label: `text ${sizeLabel(size)}`, data: textPayload(size, size), binary: false, pieces: pieces(size) })
    out.push({ label: `binary ${sizeLabel(size)}`, data: binaryPayload(size, size), binary: true, pieces: pieces(size) })
  }
  return out
}

/**
 * Cuts `data` into `pieces` parts, the first one byte when possible (so a tiny first fragment
 * is covered too). With `whole: true` no cut falls inside a UTF-8 character: our `send` checks
 * each text fragment on its own (see the report), while `ws` sends any bytes.
 */
function cut (data: Buffer, pieces: number, whole = false): Buffer[] {
  if (pieces <= 1) return [data]
  const bounds = [0, Math.min(1, data.length)]
  const size = Math.ceil((data.length - bounds[1]) / (pieces - 1))
  for (let i = 1; i < pieces; i++) {
    let at = Math.min(data.length, bounds[1] + i * size)
    // Back up over continuation bytes (10xxxxxx) to a character's first byte.
    while (whole && at < data.length && at > bounds[bounds.length - 1] && (data[at] & 0xc0) === 0x80) at--
    bounds.push(at)
  }
  bounds[bounds.length - 1] = data.length
  const out: Buffer[] = []
  for (let i = 0; i < bounds.length - 1; i++) out.push(data.subarray(bounds[i], bounds[i + 1]))
  return out
}

/**
 * Runs `steps` over one connection: each message sent, its echo awaited and compared; then
 * what crossed the server's socket checked: every incoming message RSV1 as `clientCompressed`
 * says, in as many frames as pieces, every echo one frame with RSV1 exactly from 1 KiB.
 */
async function runLadder (t: Test, list: Step[], send: (step: Step) => void, next: () => Promise<{ data: Buffer, isBinary: boolean }>, clientCompressed: (step: Step) => boolean, tap: SocketTap, log: Array<{ length: number, isBinary: boolean }>, serverThreshold = THRESHOLD): Promise<void> {
  let failure: string | undefined
  for (const step of list) {
    send(step)
    const echo = await next()
    if (echo.isBinary !== step.binary) failure = `${step.label}: echo is ${echo.isBinary ? 'binary' : 'text'}`
    else if (!echo.data.equals(step.data)) failure = `${step.label}: echo differs (${echo.data.length} bytes)`
    if (failure !== undefined) break
  }
  t.equal(failure, undefined, `${list.length} messages, 0 B to 16 MiB, echoed byte-identical and in order`)
  t.same(log, list.map((step) => ({ length: step.data.length, isBinary: step.binary })), 'the handler received each message whole, with its type')
  const incoming = await tap.incoming.waitMessages(list.length, 10_000)
  const outgoing = await tap.outgoing.waitMessages(list.length, 10_000)
  const wanted = list.map((step) => ({ step: step.label, compressed: clientCompressed(step), frames: step.pieces }))
  t.same(incoming.map((m, i) => ({ step: list[i].label, compressed: m.compressed, frames: m.frames.length })), wanted,
    'client to server: RSV1 as the client compresses, on the first frame only, in the pieces sent')
  t.ok(incoming.every((m) => m.frames.every((f, i) => f.masked && !f.rsv2 && !f.rsv3 && (i === 0 || !f.rsv1))), 'client frames masked, RSV1 never on a continuation')
  t.same(outgoing.map((m, i) => ({ step: list[i].label, compressed: m.compressed, frames: m.frames.length })),
    list.map((step) => ({ step: step.label, compressed: step.data.length >= serverThreshold, frames: 1 })),
    `server to client: every echo one frame, RSV1 exactly on those of ${serverThreshold} bytes or more`)
  const compressedOut = outgoing.filter((m) => m.compressed)
  const plainBytes = list.filter((step) => step.data.length >= serverThreshold).reduce((sum, step) => sum + step.data.length, 0)
  const wireBytes = compressedOut.reduce((sum, m) => sum + m.wireBytes, 0)
  t.ok(wireBytes < plainBytes * 0.7, `compressed echoes are smaller on the wire (${wireBytes} bytes for ${plainBytes})`)
}

t.test('ws client (threshold 0): every size, text and binary, whole messages, compressed both ways', async (t) => {
  const client = await openWs(t, `${wsUrl}/`, undefined, { perMessageDeflate: { threshold: 0 }, maxPayload: MAX })
  t.equal(client.extensions, 'permessage-deflate')
  const list = steps(() => 1)
  await runLadder(t, list,
    (step) => client.send(step.data, { binary: step.binary }),
    async () => await nextMessage(client, WAIT),
    () => true, taps[taps.length - 1], received[received.length - 1])
  client.close(1000)
  t.same(await closeEvent(client), { code: 1000, reason: '' })
})

t.test('ws client (threshold 0): every size, text and binary, sent in fin:false pieces (ws compresses each, RSV1 on the first)', async (t) => {
  const client = await openWs(t, `${wsUrl}/`, undefined, { perMessageDeflate: { threshold: 0 }, maxPayload: MAX })
  // 16 MiB in 3 pieces, smaller messages in 2 to 5 (one piece per byte at most).
  const list = steps((size) => Math.max(1, Math.min(size, 2 + (size % 4))))
  await runLadder(t, list,
    (step) => {
      const parts = cut(step.data, step.pieces)
      parts.forEach((part, i) => client.send(part, { binary: step.binary, fin: i === parts.length - 1 }))
    },
    async () => await nextMessage(client, WAIT),
    () => true, taps[taps.length - 1], received[received.length - 1])
  client.close(1000)
  t.same(await closeEvent(client), { code: 1000, reason: '' })
})

/** Messages our client received, in order, with bounded waits. */
function inboxOf (socket: OurWebSocket): () => Promise<{ data: Buffer, isBinary: boolean }> {
  const queue: Array<{ data: Buffer, isBinary: boolean }> = []
  const waiters: Array<() => void> = []
  socket.on('message', (data, isBinary) => {
    queue.push({ data, isBinary })
    waiters.shift()?.()
  })
  return async () => {
    const deadline = Date.now() + WAIT
    while (queue.length === 0) {
      if (Date.now() > deadline) throw new Error('timed out waiting for a message on our client')
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100)
        waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
    return queue.shift() as { data: Buffer, isBinary: boolean }
  }
}

for (const fragmented of [false, true]) {
  t.test(`our client (threshold 0) against our server: every size, text and binary, ${fragmented ? 'in fin:false pieces (sent uncompressed: we never compress fragments)' : 'whole messages, compressed both ways'}`, async (t) => {
    const client = await connect(`${wsUrl}/`, { perMessageDeflate: { threshold: 0 }, maxMessageSize: MAX })
    t.teardown(() => client.terminate())
    t.match(client.extensions, /^permessage-deflate/, `agreed: ${client.extensions}`)
    const next = inboxOf(client)
    const list = steps((size) => fragmented ? Math.max(1, Math.min(size, 3)) : 1)
    await runLadder(t, list,
      (step) => {
        const parts = cut(step.data, step.pieces, !step.binary)
        parts.forEach((part, i) => client.send(part, { binary: step.binary, fin: i === parts.length - 1 }))
      },
      next,
      // RFC 7692 lets any message go uncompressed; ours compresses whole messages only.
      (step) => step.pieces === 1, taps[taps.length - 1], received[received.length - 1])
    const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)))
    client.close(1000)
    t.equal(await closed, 1000)
  })
}

t.test('our client (threshold 0) against a ws server (perMessageDeflate, threshold 0): every size, text and binary, whole, compressed both ways', async (t) => {
  const serverTaps: SocketTap[] = []
  const serverLogs: Array<Array<{ length: number, isBinary: boolean }>> = []
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX, perMessageDeflate: { threshold: 0 } })
  await new Promise((resolve) => wss.once('listening', resolve))
  t.teardown(async () => await new Promise<void>((resolve) => wss.close(() => resolve())))
  wss.on('connection', (socket, request) => {
    serverTaps.push(tapSocket(request.socket as import('node:net').Socket))
    const log: Array<{ length: number, isBinary: boolean }> = []
    serverLogs.push(log)
    socket.on('message', (data, isBinary) => {
      const buffer = data as Buffer
      log.push({ length: buffer.length, isBinary })
      socket.send(buffer, { binary: isBinary })
    })
  })
  const client = await connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, { perMessageDeflate: { threshold: 0 }, maxMessageSize: MAX })
  t.teardown(() => client.terminate())
  t.match(client.extensions, /^permessage-deflate/, `agreed with ws: ${client.extensions}`)
  const list = steps(() => 1)
  await runLadder(t, list,
    (step) => client.send(step.data, { binary: step.binary }),
    inboxOf(client),
    () => true, serverTaps[0], serverLogs[0], 0)
  const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)))
  client.close(1000)
  t.equal(await closed, 1000)
})
