// Benchmark echo server on the `ws` package: every message echoed as received (text as text,
// binary as binary), messages up to 64 MiB, nothing logged per message, exits on SIGTERM.
// PORT (default 9001), HOST (default 127.0.0.1), DEFLATE=1 for permessage-deflate. WS_NO_BUFFERUTIL=1 runs ws without the
// `bufferutil` addon (ws itself reads WS_NO_BUFFER_UTIL, see ws/lib/buffer-util.js).
import { createRequire } from 'node:module'

if (process.env.WS_NO_BUFFERUTIL === '1') process.env.WS_NO_BUFFER_UTIL = '1'
const { WebSocketServer } = await import('ws')

const require = createRequire(import.meta.url)
const bufferutil = Object.keys(require.cache).some((file) => file.includes('bufferutil'))

const port = Number(process.env.PORT ?? 9001)
const host = process.env.HOST ?? '127.0.0.1'

// DEFLATE=1 turns on permessage-deflate (ws's defaults: 1 KiB threshold, context takeover).
const wss = new WebSocketServer({ port, host, maxPayload: 64 * 1024 * 1024, perMessageDeflate: process.env.DEFLATE === '1' })
wss.on('connection', (socket) => {
  socket.on('error', () => {}) // a client that vanishes mid-frame must not crash the server
  socket.on('message', (data, isBinary) => {
    socket.send(data, { binary: isBinary })
  })
})
wss.on('error', (error) => {
  process.stderr.write(`ws server error: ${error.message}\n`)
  process.exit(1)
})

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const client of wss.clients) client.terminate()
    wss.close(() => process.exit(0))
    setTimeout(() => process.exit(0), 2000).unref()
  })
}

wss.on('listening', () => {
  process.stdout.write(`ws echo server (bufferutil: ${bufferutil ? 'yes' : 'no'}) listening on ${host}:${port}\n`)
})
