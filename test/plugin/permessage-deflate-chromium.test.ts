/**
 * permessage-deflate with a real browser: headless Chromium loads a page from a Fastify app
 * with the plugin (`perMessageDeflate: true`); the page opens a WebSocket, checks that
 * `ws.extensions` names permessage-deflate, and echoes text and binary messages of 10 B to
 * 2 MiB. The server side asserts what arrived (length, type, SHA-256 against the page's own
 * digest), and what crossed its TCP socket: Chromium's offer, RSV1 on every message it sent,
 * RSV1 on our echoes from the 1 KiB threshold, how Chromium framed the large ones.
 */
import { createHash } from 'node:crypto'
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { openPage } from '../helpers/browser.js'
import { parseDeflateAnswer } from '../helpers/deflate-peer.js'
import { tapSocket, type SocketTap } from '../helpers/wire-tap.js'

const THRESHOLD = 1024

/** The page: `runEcho(plan)` opens a WebSocket to /echo and echoes each planned message. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>permessage-deflate echo</title>
<script>
const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('')
const encoder = new TextEncoder()

// Valid text of exactly size UTF-8 bytes, with 2-, 3- and 4-byte characters.
function makeText (size, seed) {
  const unit = seed + ': Grüße, naïve café, €uro ✓ 日本語 😀 and some ASCII to compress. '
  let text = unit.repeat(Math.ceil(size / encoder.encode(unit).length) + 1)
  let bytes = encoder.encode(text)
  while (bytes.length > size) {
    text = text.slice(0, Math.max(0, text.length - Math.max(1, Math.floor((bytes.length - size) / 4))))
    // Never end on half a surrogate pair.
    if (/[\\ud800-\\udbff]$/.test(text)) text = text.slice(0, -1)
    bytes = encoder.encode(text)
  }
  return text + 'x'.repeat(size - bytes.length)
}

// Binary: 1 KiB of noise, then 1 KiB of one value, repeated.
function makeBinary (size, seed) {
  const out = new Uint8Array(size)
  let x = seed * 2654435761 >>> 0
  for (let i = 0; i < size; i++) {
    if ((i >> 10) % 2 === 0) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; out[i] = x >>> 24 } else out[i] = (i >> 10) & 0xff
  }
  return out
}

window.runEcho = async (plan) => {
  const ws = new WebSocket('ws://' + location.host + '/echo')
  ws.binaryType = 'arraybuffer'
  const inbox = []
  let wake = null
  ws.onmessage = (event) => { inbox.push(event.data); if (wake) { wake(); wake = null } }
  const closed = new Promise((resolve) => { ws.onclose = (event) => resolve({ code: event.code, wasClean: event.wasClean }) })
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('WebSocket error')) })
  const result = { extensions: ws.extensions, echoes: [] }
  for (const [index, step] of plan.entries()) {
    const data = step.binary ? makeBinary(step.size, index + 1) : makeText(step.size, index + 1)
    const bytes = step.binary ? data : encoder.encode(data)
    ws.send(data)
    while (inbox.length === 0) await new Promise((resolve) => { wake = resolve })
    const echo = inbox.shift()
    const same = step.binary
      ? echo instanceof ArrayBuffer && echo.byteLength === bytes.length && new Uint8Array(echo).every((b, i) => b === bytes[i])
      : typeof echo === 'string' && echo === data
    result.echoes.push({ size: bytes.length, binary: step.binary, same, sha256: hex(await crypto.subtle.digest('SHA-256', bytes)) })
  }
  ws.close(1000, 'done')
  result.close = await closed
  return result
}
</script>
<p>permessage-deflate echo page</p>
`

const arrivals: Array<{ length: number, isBinary: boolean, sha256: string }> = []
const offers: Array<string | undefined> = []
const serverExtensions: string[] = []
const closes: Array<{ code: number, reason: string }> = []
let tap: SocketTap | undefined

const { httpUrl } = await buildApp(t, {
  plugin: { perMessageDeflate: true, maxMessageSize: 8 * 1024 * 1024 },
  noEcho: true,
  setup (app) {
    app.get('/deflate.html', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(PAGE))
    app.get('/echo', { websocket: true }, (socket, request) => {
      tap = tapSocket(request.raw.socket)
      offers.push(request.headers['sec-websocket-extensions'])
      serverExtensions.push(socket.extensions)
      socket.on('message', (data, isBinary) => {
        arrivals.push({ length: data.length, isBinary, sha256: createHash('sha256').update(data).digest('hex') })
        socket.send(data, { binary: isBinary })
      })
      socket.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }))
    })
  }
})

t.test('Chromium negotiates permessage-deflate and echoes 10 B to 2 MiB, text and binary, compressed both ways', async (t) => {
  const page = await openPage(t, `${httpUrl}/deflate.html`)
  const sizes = [10, 2 * 1024, 100 * 1024, 2 * 1024 * 1024]
  const plan = sizes.flatMap((size) => [{ size, binary: false }, { size, binary: true }])
  const result = await page.evaluate(async (plan) => await (globalThis as unknown as { runEcho: (p: unknown) => Promise<unknown> }).runEcho(plan), plan) as {
    extensions: string
    echoes: Array<{ size: number, binary: boolean, same: boolean, sha256: string }>
    close: { code: number, wasClean: boolean }
  }

  // The handshake, from both sides.
  t.match(offers[0], /permessage-deflate/, `Chromium offered permessage-deflate: ${String(offers[0])}`)
  t.match(result.extensions, /^permessage-deflate/, `ws.extensions in the page: ${result.extensions}`)
  t.equal(result.extensions, serverExtensions[0], 'the page and socket.extensions agree')
  t.ok(parseDeflateAnswer(serverExtensions[0]) !== null, 'a valid permessage-deflate answer')

  // What arrived, and what came back.
  t.same(result.echoes.map((e) => ({ size: e.size, binary: e.binary, same: e.same })),
    plan.map((step) => ({ size: step.size, binary: step.binary, same: true })), 'every echo identical in the page (type and bytes)')
  t.same(arrivals.map((a) => ({ length: a.length, isBinary: a.isBinary })), plan.map((step) => ({ length: step.size, isBinary: step.binary })),
    'the server received each message whole, with its type')
  t.same(arrivals.map((a) => a.sha256), result.echoes.map((e) => e.sha256), 'SHA-256 of what the server received = what the page sent')
  t.same(result.close, { code: 1000, wasClean: true }, 'the page saw a clean close')
  t.same(closes, [{ code: 1000, reason: 'done' }], 'the server saw the page close with 1000')

  // What crossed the server's socket.
  const wire = tap as SocketTap
  const incoming = await wire.incoming.waitMessages(plan.length)
  const outgoing = await wire.outgoing.waitMessages(plan.length)
  t.same(incoming.map((m) => m.compressed), plan.map(() => true), 'Chromium compressed every message (RSV1 on its first frame)')
  t.ok(incoming.every((m) => m.frames.every((f, i) => f.masked && !f.rsv2 && !f.rsv3 && (i === 0 ? f.rsv1 : !f.rsv1 && f.opcode === 0))),
    'Chromium frames: masked, RSV1 on the first frame only, continuations after it')
  // Chromium frames its compressed output in pieces of about 64 KiB: the 2 MiB binary message
  // (half noise, ~1 MiB compressed) comes as a first frame and continuations, which the
  // server joins and inflates as one message; the 2 MiB text (~7 KiB compressed) in one.
  const bigBinary = incoming[plan.findIndex((step) => step.binary && step.size === 2 * 1024 * 1024)]
  t.ok(bigBinary.frames.length > 1 && bigBinary.frames.slice(1).every((f) => f.opcode === 0 && !f.rsv1),
    `the 2 MiB binary message came in ${bigBinary.frames.length} frames (RSV1 on the first, then continuations)`)
  t.same(outgoing.map((m) => ({ compressed: m.compressed, frames: m.frames.length })),
    plan.map((step) => ({ compressed: step.size >= THRESHOLD, frames: 1 })), 'our echoes: one frame each, RSV1 exactly from 1 KiB')
  t.comment(`wire bytes, Chromium -> server: ${incoming.map((m, i) => `${plan[i].binary ? 'bin' : 'txt'} ${plan[i].size} -> ${m.wireBytes}`).join('; ')}`)
  t.comment(`wire bytes, server -> Chromium: ${outgoing.map((m, i) => `${plan[i].binary ? 'bin' : 'txt'} ${plan[i].size} -> ${m.wireBytes}`).join('; ')}`)
})
