/**
 * Autobahn testsuite case group 13 (WebSocket compression, different parameters) against the
 * echo app with permessage-deflate on (example-app/echo.js with DEFLATE=1).
 *
 * Cases 13.1.z to 13.7.z: the 18 message sizes of group 12 on the JSON data file, under the
 * suite's seven client offers (its `PerMessageDeflateOffer(requestNoContextTakeover,
 * requestMaxWindowBits)`, with client_no_context_takeover and client_max_window_bits always
 * offered): (False, 0), (True, 0), (False, 8), (False, 15), (True, 8), (True, 15), and the three
 * offers [(True, 8), (True, 0), (False, 0)] in one header. Each case checks our answer exactly
 * (parsed, so parameter order is free), then that every echo is byte-identical and in order,
 * RSV1 exactly from the 1 KiB threshold, and inflates with exactly the agreed server window and
 * context rule (our client resets its decompressor after each message under
 * server_no_context_takeover, so a back-reference into an earlier message fails).
 *
 * The `x` cases cover what the suite's offers leave out, on 8 of the 18 sizes: offers without
 * client_no_context_takeover (so our server's receive-side history is used), every
 * client_max_window_bits value 8..15 and server_max_window_bits 9..14, several offers (some
 * invalid) in one header and across two header lines, a server configured with its own
 * limits (and threshold 0), a declined offer, and `ws` as the client for the window values.
 *
 * Scaled down as group 12 (see docs/conformance.md).
 */
import t, { type Test } from 'tap'
import { AUTOBAHN_MESSAGE_SIZES, AutobahnMessages, jsonCorpus } from '../helpers/compression-corpora.js'
import { DeflatePeer, ECHO_THRESHOLD, autobahnOffer, parseDeflateAnswer, runEchoCase, scaledCount, type AgreedDeflate } from '../helpers/deflate-peer.js'
import { buildApp, closeEvent, nextMessage, openWs } from '../helpers/app.js'
import { tapSocket } from '../helpers/wire-tap.js'
import type { WebSocketPluginOptions } from '../../src/index.js'

const json = jsonCorpus()

/** The echo app (64 MiB messages), recording each connection's `socket.extensions`. */
async function startEcho (t: Test, perMessageDeflate: WebSocketPluginOptions['perMessageDeflate']): Promise<{ port: number, extensions: string[] }> {
  const extensions: string[] = []
  const { port } = await buildApp(t, {
    plugin: { maxMessageSize: 64 * 1024 * 1024, perMessageDeflate },
    noEcho: true,
    setup (app) {
      app.get('/', { websocket: true }, (socket) => {
        extensions.push(socket.extensions)
        socket.on('message', (data, isBinary) => {
          socket.send(data, { binary: isBinary })
        })
      })
    }
  })
  return { port, extensions }
}

const echo = await startEcho(t, true)

const agreed = (overrides: Partial<AgreedDeflate>): AgreedDeflate => ({
  serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...overrides
})

interface Variant {
  offer: string | string[] | undefined
  /** null: the offer must be declined (no header in the 101, nothing compressed). */
  answer: AgreedDeflate | null
}

async function runVariantCase (t: Test, port: number, extensions: string[], variant: Variant, size: number, fragmentSize: number, expectCompressed: (size: number) => boolean): Promise<void> {
  const before = extensions.length
  const peer = await DeflatePeer.open(t, port, variant.offer)
  t.same(peer.agreed, variant.answer, variant.answer === null ? 'offer declined: no Sec-WebSocket-Extensions' : 'the answer agrees exactly these parameters')
  await waitFor(() => extensions.length > before)
  t.equal(extensions[before], peer.response.headers['sec-websocket-extensions'] ?? '', 'socket.extensions is the header sent')
  const messages = new AutobahnMessages(json, size)
  await runEchoCase(t, peer, {
    next: () => messages.next(),
    count: scaledCount(size),
    binary: false,
    fragmentSize,
    expectCompressed: variant.answer === null ? () => false : expectCompressed
  })
}

async function waitFor (condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const fromThreshold = (size: number): boolean => size >= ECHO_THRESHOLD

// The suite's seven parameter sets, and what our server (defaults) answers to each. It takes the
// client's client_no_context_takeover hint (RFC 7692 §7.1.1.2 lets it), grants
// server_no_context_takeover when asked (§7.1.1.1) and echoes an offered server_max_window_bits
// (§7.1.2.1); client_max_window_bits without a value needs no answer at our default of 15.
const SUITE: Array<{ offers: Array<[boolean, number]>, answer: AgreedDeflate }> = [
  { offers: [[false, 0]], answer: agreed({ clientNoContextTakeover: true }) },
  { offers: [[true, 0]], answer: agreed({ clientNoContextTakeover: true, serverNoContextTakeover: true }) },
  { offers: [[false, 8]], answer: agreed({ clientNoContextTakeover: true, serverMaxWindowBits: 8 }) },
  { offers: [[false, 15]], answer: agreed({ clientNoContextTakeover: true, serverMaxWindowBits: 15 }) },
  { offers: [[true, 8]], answer: agreed({ clientNoContextTakeover: true, serverNoContextTakeover: true, serverMaxWindowBits: 8 }) },
  { offers: [[true, 15]], answer: agreed({ clientNoContextTakeover: true, serverNoContextTakeover: true, serverMaxWindowBits: 15 }) },
  // The first offer we can honour wins (RFC 7692 §5.1): the first.
  { offers: [[true, 8], [true, 0], [false, 0]], answer: agreed({ clientNoContextTakeover: true, serverNoContextTakeover: true, serverMaxWindowBits: 8 }) }
]

for (const [j, { offers, answer }] of SUITE.entries()) {
  const offer = offers.map(([noContext, bits]) => autobahnOffer(noContext, bits)).join(', ')
  t.test(`13.${j + 1} Large JSON data file, client offers (requestNoContextTakeover, requestMaxWindowBits): ${JSON.stringify(offers)}`, async (t) => {
    for (const [i, [size, fragmentSize]] of AUTOBAHN_MESSAGE_SIZES.entries()) {
      t.test(`13.${j + 1}.${i + 1} ${scaledCount(size)} compressed text messages of ${size} bytes, auto-fragment to ${fragmentSize} octets, offer "${offer}": echoed exact and in order`, async (t) => {
        await runVariantCase(t, echo.port, echo.extensions, { offer, answer }, size, fragmentSize, fromThreshold)
      })
    }
  })
}

/** The sizes the x variants run (of the suite's 18): both sides of every crossover, whole and fragmented. */
const X_SIZES = [0, 3, 4, 6, 9, 11, 15, 16].map((index) => AUTOBAHN_MESSAGE_SIZES[index])

function xGroup (title: string, variant: Variant, server: { port: number, extensions: string[] } = echo, expectCompressed = fromThreshold): void {
  t.test(`13.x ${title}`, async (t) => {
    for (const [size, fragmentSize] of X_SIZES) {
      t.test(`${scaledCount(size)} text messages of ${size} bytes, auto-fragment to ${fragmentSize} octets: echoed exact and in order`, async (t) => {
        await runVariantCase(t, server.port, server.extensions, variant, size, fragmentSize, expectCompressed)
      })
    }
  })
}

// Context takeover in both directions: the server must keep the client's history.
xGroup('offer "permessage-deflate" (context takeover both ways, 32 KiB windows)', { offer: 'permessage-deflate', answer: agreed({}) })
xGroup('offer "permessage-deflate; client_max_window_bits" (what ws and browsers send)', { offer: 'permessage-deflate; client_max_window_bits', answer: agreed({}) })
for (let bits = 8; bits <= 15; bits++) {
  // RFC 7692 §7.1.2.2: a value in the offer is the client's own limit; the server answers it
  // back (below 15) and the client compresses within it, with context takeover.
  xGroup(`offer "permessage-deflate; client_max_window_bits=${bits}": client compresses within a ${2 ** bits}-byte window`,
    { offer: `permessage-deflate; client_max_window_bits=${bits}`, answer: agreed({ clientMaxWindowBits: bits }) })
}
for (const [serverBits, clientBits] of [[9, 14], [10, 13], [11, 12], [12, 11], [13, 10], [14, 9]]) {
  xGroup(`offer "permessage-deflate; server_max_window_bits=${serverBits}; client_max_window_bits=${clientBits}"`,
    { offer: `permessage-deflate; server_max_window_bits=${serverBits}; client_max_window_bits=${clientBits}`, answer: agreed({ serverMaxWindowBits: serverBits, clientMaxWindowBits: clientBits }) })
}
xGroup('offer "permessage-deflate; server_no_context_takeover" (the client keeps its context)',
  { offer: 'permessage-deflate; server_no_context_takeover', answer: agreed({ serverNoContextTakeover: true }) })
xGroup('offer with every parameter: no context takeover and 9-bit windows both ways',
  {
    offer: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9',
    answer: agreed({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 })
  })

// Several offers: unknown extensions and invalid offers are skipped, the first valid one wins.
const SEVERAL = ['x-webkit-deflate-frame', 'permessage-deflate; server_max_window_bits=7', 'permessage-deflate; unknown_parameter',
  'permessage-deflate; client_max_window_bits=10; server_max_window_bits=11', 'permessage-deflate']
xGroup(`five offers in one header (${SEVERAL.join(', ')}): the fourth is taken`,
  { offer: SEVERAL.join(', '), answer: agreed({ serverMaxWindowBits: 11, clientMaxWindowBits: 10 }) })
xGroup('the same offers across two Sec-WebSocket-Extensions header lines: the fourth is taken',
  { offer: [SEVERAL.slice(0, 2).join(', '), SEVERAL.slice(2).join(', ')], answer: agreed({ serverMaxWindowBits: 11, clientMaxWindowBits: 10 }) })

// A server with its own limits: it asks for them in its answer, and compresses everything.
const strict = await startEcho(t, { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9, threshold: 0 })
xGroup('server configured with no context takeover, windows 10 (server) and 9 (client), threshold 0; offer "permessage-deflate; client_max_window_bits": every echo compressed',
  { offer: 'permessage-deflate; client_max_window_bits', answer: agreed({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9 }) },
  strict, () => true)
// RFC 7692 §7.1.2.2: without client_max_window_bits in the offer the client may use 32 KiB,
// which a 9-bit limit cannot allow: declined, and the connection goes on uncompressed.
xGroup('the same server and an offer without client_max_window_bits: declined, echoes uncompressed',
  { offer: 'permessage-deflate', answer: null }, strict)

// ws as the client, for every window it can ask for in each direction.
t.test('13.x ws as the client with clientMaxWindowBits / serverMaxWindowBits 8..15 and no context takeover: echoed exact, RSV1 from 1 KiB', async (t) => {
  // Each ws option set, and the parameters our answer must agree.
  const configs: Array<[Record<string, number | boolean>, AgreedDeflate]> = []
  for (let bits = 8; bits <= 15; bits++) {
    configs.push([{ clientMaxWindowBits: bits }, agreed({ clientMaxWindowBits: bits })], [{ serverMaxWindowBits: bits }, agreed({ serverMaxWindowBits: bits })])
  }
  configs.push(
    [{ serverNoContextTakeover: true }, agreed({ serverNoContextTakeover: true })],
    [{ clientNoContextTakeover: true }, agreed({ clientNoContextTakeover: true })],
    [{ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
      agreed({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 })]
  )
  const sizes = [16, 1024, 16384, 131072]
  for (const [config, expected] of configs) {
    const before = echo.extensions.length
    const client = await openWs(t, `ws://127.0.0.1:${echo.port}/`, undefined, { perMessageDeflate: { threshold: 0, ...config }, maxPayload: 64 * 1024 * 1024 })
    const wire = tapSocket((client as unknown as { _socket: import('node:net').Socket })._socket)
    let failure: string | undefined
    for (const size of sizes) {
      const messages = new AutobahnMessages(json, size)
      for (let k = 0; k < 4 && failure === undefined; k++) {
        const message = messages.next()
        client.send(message, { binary: false })
        const got = await nextMessage(client, 10_000)
        if (got.isBinary || !got.data.equals(message)) failure = `${size} bytes, message ${k + 1}: echo differs`
      }
    }
    const label = JSON.stringify(config)
    t.equal(failure, undefined, `${label}: every echo byte-identical and in order`)
    const onWire = await wire.incoming.waitMessages(sizes.length * 4)
    t.same(onWire.map((m) => m.compressed), sizes.flatMap((size) => [size, size, size, size].map(fromThreshold)), `${label}: RSV1 exactly on echoes of 1 KiB or more`)
    t.same(parseDeflateAnswer(echo.extensions[before]), expected, `${label}: agreed ${echo.extensions[before]}`)
    client.close(1000)
    t.same(await closeEvent(client), { code: 1000, reason: '' }, `${label}: closed normally`)
  }
})
