/**
 * Regression (found measuring memory per idle connection for issue 11): after a message had
 * been delivered (and dropped by the application), every connection kept memory alive until
 * its next frame:
 *
 * - `WebSocketProtocol.data` still held the last message's payload (or, for a compressed one,
 *   its compressed bytes): a view into the chunk read from the socket, which pins the whole
 *   chunk (up to 64 KiB), or a copy carved from Node's shared 8 KiB Buffer pool;
 * - `FrameParser.maskKey`, allocated with `Buffer.allocUnsafe(4)` on the first masked frame,
 *   pinned for the connection's whole life the 8 KiB pool slab it was carved from (with other
 *   allocations between connections, each one lands in a different slab).
 *
 * Measured here with real sockets: 200 connections each send one 60 KiB message that the
 * handler drops (with other pool allocations in the process between them, as a busy server
 * has); the server's Buffer memory must not grow by more than a few KiB per connection (it
 * grew by ~68 KiB: the read chunk plus a pool slab), with and without permessage-deflate.
 */
import net from 'node:net'
import v8 from 'node:v8'
import vm from 'node:vm'
import zlib from 'node:zlib'
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { sleep, until } from '../helpers/wait.js'
import { OP, buildFrame } from '../helpers/frames.js'
import { handshakeRequest } from '../helpers/raw-client.js'
import { Seeded } from '../helpers/compression-corpora.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

const CONNECTIONS = 200
const SIZE = 60 * 1024

async function settledArrayBuffers (): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc()
    await sleep(20)
  }
  return process.memoryUsage().arrayBuffers
}

for (const compressed of [false, true]) {
  t.test(`${compressed ? 'compressed' : 'plain'}: a delivered and dropped 60 KiB message leaves no Buffer memory behind on an idle connection`, async (t) => {
    let received = 0
    const { port } = await buildApp(t, {
      plugin: { perMessageDeflate: compressed },
      noEcho: true,
      setup (app) {
        app.get('/sink', { websocket: true }, (socket) => {
          socket.on('message', () => { received++ })
        })
      }
    })
    // Incompressible, so the compressed frame is as large as the plain one.
    const payload = new Seeded(7).bytes(SIZE)
    const body = compressed ? zlib.deflateRawSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4) : payload
    const frame = buildFrame({ opcode: OP.BINARY, rsv1: compressed, payload: body })
    const sockets: net.Socket[] = []
    t.teardown(() => { for (const socket of sockets) socket.destroy() })
    const open = async (): Promise<net.Socket> => await new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port })
      socket.once('error', reject)
      socket.once('connect', () => socket.write(handshakeRequest({
        path: '/sink',
        // No context takeover from the client: the server keeps no receive history (which
        // would legitimately be 32 KiB), so what remains is only what should not.
        headers: compressed ? { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits; client_no_context_takeover' } : {}
      })))
      // The 101 arrives, then nothing: the client discards what it reads.
      socket.once('data', (head: Buffer) => {
        if (!head.toString('latin1').startsWith('HTTP/1.1 101')) reject(new Error('no 101'))
        else if (compressed && !head.toString('latin1').toLowerCase().includes('permessage-deflate')) reject(new Error('compression not agreed'))
        else resolve(socket)
      })
    })
    // A first round warms up the code paths, then is closed.
    for (let i = 0; i < 10; i++) sockets.push(await open())
    for (const socket of sockets) socket.write(frame)
    await until(() => received === 10, 5000, 'the warm-up messages')
    for (const socket of sockets.splice(0)) socket.destroy()
    await sleep(100)

    const before = await settledArrayBuffers()
    for (let i = 0; i < CONNECTIONS; i++) sockets.push(await open())
    for (const [i, socket] of sockets.entries()) {
      socket.write(frame)
      await until(() => received === 11 + i, 5000, `message ${i + 1}`)
      // Other work in the process between two connections' first frames (requests, small
      // messages elsewhere) moves Node's Buffer pool on to a fresh 8 KiB slab.
      for (let k = 0; k < 3; k++) Buffer.allocUnsafe(3000)
    }
    await sleep(100)
    const perConnection = (await settledArrayBuffers() - before) / CONNECTIONS / 1024
    t.ok(perConnection < 4, `Buffer memory per idle connection after one dropped 60 KiB message: ${perConnection.toFixed(1)} KiB (bound 4)`)
  })
}
