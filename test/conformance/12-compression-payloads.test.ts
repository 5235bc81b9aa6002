/**
 * Autobahn testsuite case group 12 (WebSocket compression, different payloads) against the echo
 * app with permessage-deflate on (example-app/echo.js with DEFLATE=1).
 *
 * Each case x.y.z: open a connection with the suite's default offer
 * (`permessage-deflate; client_no_context_takeover; client_max_window_bits`), send compressed
 * messages of one size taken as consecutive slices of one data file, each after the previous
 * echo arrived, optionally cut after compression into frames of N bytes (the suite's
 * auto-fragmentation, which puts frame boundaries anywhere in the DEFLATE stream), then close
 * normally. Verdict, stricter than the suite's (which checks type, length and SHA-1 only):
 * every echo byte-identical and in order, of the same type, in one frame, RSV1 set exactly
 * when the echo is at least the 1 KiB threshold, inflatable with the agreed window, and the
 * negotiated header exactly as expected.
 *
 * Scaled down (see docs/conformance.md): `scaledCount(size)` messages per case instead of 1000,
 * on generated stand-ins for the suite's five data files (same sizes and kinds of content).
 * The `x` cases add the suite's sizes sent back to back (pipelined, so messages wait behind
 * thread-pool inflates), and `ws` as an independent compressing client, fragmenting with
 * `fin: false`.
 */
import zlib from 'node:zlib'
import t from 'tap'
import { AUTOBAHN_MESSAGE_SIZES, AutobahnMessages, autobahnCorpora } from '../helpers/compression-corpora.js'
import { DeflatePeer, ECHO_THRESHOLD, autobahnOffer, runEchoCase, scaledCount, startDeflateEchoServer } from '../helpers/deflate-peer.js'
import { tapSocket } from '../helpers/wire-tap.js'
import { OP, buildFrame } from '../helpers/frames.js'
import { closeEvent, nextMessage, openWs } from '../helpers/app.js'

const port = await startDeflateEchoServer(t)
const corpora = autobahnCorpora()

/** Our answer to the suite's default offer: the client's hint taken, 32 KiB windows both ways. */
const DEFAULT_ANSWER = { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }

const compressedFromThreshold = (size: number): boolean => size >= ECHO_THRESHOLD

for (const [j, corpus] of corpora.entries()) {
  t.test(`12.${j + 1} ${corpus.title}`, async (t) => {
    for (const [i, [size, fragmentSize]] of AUTOBAHN_MESSAGE_SIZES.entries()) {
      const count = scaledCount(size)
      t.test(`12.${j + 1}.${i + 1} ${count} compressed ${corpus.binary ? 'binary' : 'text'} messages of ${size} bytes, auto-fragment to ${fragmentSize} octets, default offer: echoed exact and in order`, async (t) => {
        const peer = await DeflatePeer.open(t, port, autobahnOffer())
        t.same(peer.agreed, DEFAULT_ANSWER, 'permessage-deflate agreed: client_no_context_takeover, default windows')
        const messages = new AutobahnMessages(corpus.data, size)
        await runEchoCase(t, peer, { next: () => messages.next(), count, binary: corpus.binary, fragmentSize, expectCompressed: compressedFromThreshold })
      })
    }

    t.test(`12.${j + 1}.x every size of the group sent back to back (pipelined), auto-fragment to 1000 octets: echoed exact and in order`, async (t) => {
      const peer = await DeflatePeer.open(t, port, autobahnOffer())
      const sizes = AUTOBAHN_MESSAGE_SIZES.filter(([, fragment]) => fragment === 0).map(([size]) => size)
      const sources = sizes.map((size) => new AutobahnMessages(corpus.data, size))
      let n = 0
      // Each size three times, interleaved: small ones (inflated at once) queue behind large
      // ones (inflated in the thread pool), so any reordering shows.
      await runEchoCase(t, peer, {
        next: () => sources[n++ % sources.length].next(),
        count: sizes.length * 3,
        binary: corpus.binary,
        fragmentSize: 1000,
        expectCompressed: compressedFromThreshold,
        pipelined: true
      })
    })

    t.test(`12.${j + 1}.x ws as the client (its offer, threshold 0), messages of 16 B to 128 KiB whole and in fin:false pieces: echoed exact, RSV1 from 1 KiB`, async (t) => {
      const client = await openWs(t, `ws://127.0.0.1:${port}/`, undefined, { perMessageDeflate: { threshold: 0 }, maxPayload: 64 * 1024 * 1024 })
      t.equal(client.extensions, 'permessage-deflate', 'ws agreed permessage-deflate (its offer: client_max_window_bits)')
      // What the server sends, seen on the client's own socket.
      const wire = tapSocket((client as unknown as { _socket: import('node:net').Socket })._socket)
      const plan: Array<{ size: number, pieces: number }> = []
      for (const size of [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072]) plan.push({ size, pieces: 1 })
      for (const [size, pieces] of [[8192, 32], [131072, 4], [131072, 512]]) plan.push({ size, pieces })
      let failure: string | undefined
      for (const [index, { size, pieces }] of plan.entries()) {
        const sources = new AutobahnMessages(corpus.data, size)
        for (let k = 0; k < 3 && failure === undefined; k++) {
          const message = sources.next()
          const piece = Math.ceil(size / pieces)
          for (let offset = 0; offset < size; offset += piece) {
            client.send(message.subarray(offset, offset + piece), { binary: corpus.binary, fin: offset + piece >= size, compress: true })
          }
          const echo = await nextMessage(client, 10_000)
          if (echo.isBinary !== corpus.binary || !echo.data.equals(message)) failure = `step ${index}, message ${k + 1} (${size} bytes in ${pieces} pieces): echo differs`
        }
      }
      t.equal(failure, undefined, 'every echo byte-identical and in order')
      const frames = await wire.incoming.waitMessages(plan.length * 3)
      const expected = plan.flatMap(({ size }) => [size, size, size].map(compressedFromThreshold))
      t.same(frames.map((m) => m.compressed), expected, 'server echoes: RSV1 exactly on those of 1 KiB or more')
      t.ok(frames.every((m) => m.frames.length === 1 && m.frames.every((f) => !f.masked && !f.rsv2 && !f.rsv3)), 'each echo one unmasked frame, no RSV2/RSV3')
      client.close(1000)
      t.same(await closeEvent(client), { code: 1000, reason: '' }, 'closed normally')
    })
  })
}

t.test('12.x edges of compressed fragmentation (raw frames, default offer)', async (t) => {
  const json = corpora[0].data

  t.test('12.x a compressed message whose first frame (RSV1) is empty, its data in 3 continuations: echoed exact', async (t) => {
    const peer = await DeflatePeer.open(t, port, autobahnOffer())
    const message = json.subarray(0, 5000)
    const [whole] = await peer.encode(message, { binary: false })
    // Take the payload back out of the frame we built, to spread it over other frames.
    const payload = DeflatePeer.payloadOf(whole)
    const third = Math.ceil(payload.length / 3)
    peer.client.write(Buffer.concat([
      buildFrame({ opcode: OP.TEXT, rsv1: true, fin: false, payload: Buffer.alloc(0) }),
      buildFrame({ opcode: OP.CONT, fin: false, payload: payload.subarray(0, third) }),
      buildFrame({ opcode: OP.CONT, fin: false, payload: payload.subarray(third, 2 * third) }),
      buildFrame({ opcode: OP.CONT, payload: payload.subarray(2 * third) })
    ]))
    const echo = await peer.receive()
    t.ok(echo.data.equals(message) && !echo.binary && echo.compressed, 'echoed exact, compressed, as text')
    await peer.closeNormally()
  })

  t.test('12.x pings between the frames of a compressed message are answered first, then the message is echoed', async (t) => {
    const peer = await DeflatePeer.open(t, port, autobahnOffer())
    const message = json.subarray(10_000, 110_000)
    const frames = await peer.encode(message, { binary: false, fragmentSize: 4096 })
    const withPings: Buffer[] = []
    frames.forEach((f, i) => {
      withPings.push(f)
      if (i < frames.length - 1 && i % 2 === 0) withPings.push(buildFrame({ opcode: OP.PING, payload: `p${i}` }))
    })
    peer.client.write(Buffer.concat(withPings))
    const pings = Math.ceil((frames.length - 1) / 2)
    for (let i = 0; i < pings; i++) {
      const pong = await peer.client.readFrame()
      t.equal(pong.opcode, OP.PONG, `pong ${i + 1} before the echo`)
      t.notOk(pong.rsv1, 'pongs never carry RSV1')
    }
    const echo = await peer.receive()
    t.ok(echo.data.equals(message) && echo.compressed, `the ${message.length}-byte message, inflated in the thread pool, echoed exact`)
    await peer.closeNormally()
  })

  t.test('12.x a compressed message ending in a final block (BFINAL = 1), then more messages with context takeover: echoed exact', async (t) => {
    // RFC 7692 §7.2.3.4: a sender may end a message with BFINAL set; the receiver's appended
    // 00 00 ff ff then follows the end of the DEFLATE stream.
    const peer = await DeflatePeer.open(t, port, 'permessage-deflate')
    t.same(peer.agreed?.clientNoContextTakeover, false, 'context takeover for the client')
    const first = json.subarray(0, 3000)
    const finished = zlib.deflateRawSync(first)
    peer.client.write(buildFrame({ opcode: OP.TEXT, rsv1: true, payload: finished }))
    const echo = await peer.receive()
    t.ok(echo.data.equals(first), 'the BFINAL message echoed exact')
    // Our client's compressor never saw `first`: its next messages do not refer to it, which
    // is valid whatever the server kept.
    const source = new AutobahnMessages(json, 2000)
    await runEchoCase(t, peer, { next: () => source.next(), count: 10, binary: false, fragmentSize: 0, expectCompressed: compressedFromThreshold })
  })
})
