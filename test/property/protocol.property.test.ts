// Property tests (fast-check) for the sans-I/O protocol: chunking never changes the result,
// arbitrary bytes never throw, and buffering stays bounded.
import t from 'tap'
import fc from 'fast-check'
import { isUtf8 } from 'node:buffer'
import {
  Opcode,
  ProtocolEvent,
  Utf8Validator,
  WebSocketProtocol,
  encodeFrame
} from '../../src/protocol/index.js'

// A fixed seed: the same cases every run (so assertion counts are stable), and fast-check
// prints the seed and the shrunk counterexample on failure.
fc.configureGlobal({ seed: 0x6455 })

type Event =
  | ['message', string, boolean]
  | ['ping', string]
  | ['pong', string]
  | ['close', number, string]
  | ['error', string, number]

/** A server protocol; `protocol.receive` feeds a chunk and pulls every event it yields. */
function record (maxMessageSize = 1 << 20): { protocol: { receive: (chunk: Buffer) => void, inner: WebSocketProtocol }, events: Event[], written: Buffer[] } {
  const events: Event[] = []
  const written: Buffer[] = []
  const inner = new WebSocketProtocol({ write: (chunk) => { written.push(Buffer.from(chunk)) } }, { role: 'server', maxMessageSize })
  const receive = (chunk: Buffer): void => {
    inner.receive(chunk)
    for (let event = inner.next(); event !== ProtocolEvent.None; event = inner.next()) {
      switch (event) {
        case ProtocolEvent.Message: events.push(['message', inner.data.toString('hex'), inner.isBinary]); break
        case ProtocolEvent.Ping: events.push(['ping', inner.data.toString('hex')]); break
        case ProtocolEvent.Pong: events.push(['pong', inner.data.toString('hex')]); break
        case ProtocolEvent.Close: events.push(['close', inner.closeCode, inner.closeReason]); break
        case ProtocolEvent.Error: events.push(['error', inner.error!.code, inner.error!.closeCode])
      }
    }
  }
  return { protocol: { receive, inner }, events, written }
}

/** Splits `input` at the given fractional points. */
function chunk (input: Buffer, cuts: number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((c) => Math.floor(c * input.length)))].sort((a, b) => a - b)
  const pieces: Buffer[] = []
  let start = 0
  for (const offset of offsets) {
    if (offset > start && offset < input.length) {
      pieces.push(input.subarray(start, offset))
      start = offset
    }
  }
  pieces.push(input.subarray(start))
  return pieces
}

/** Fresh copies: the parser unmasks in place, so every feed needs its own bytes. */
function feed (pieces: Buffer[], maxMessageSize?: number): { events: Event[], written: string } {
  const { protocol, events, written } = record(maxMessageSize)
  for (const piece of pieces) protocol.receive(Buffer.from(piece))
  return { events, written: Buffer.concat(written).toString('hex') }
}

const maskKey = fc.uint8Array({ minLength: 4, maxLength: 4 })

const messageArb = fc.record({
  binary: fc.boolean(),
  text: fc.string({ unit: 'grapheme', maxLength: 300 }),
  bytes: fc.uint8Array({ maxLength: 3000 }),
  // Fragment boundaries, as fractions of the payload.
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  // Control frames inserted after some fragments.
  controls: fc.array(fc.record({ ping: fc.boolean(), data: fc.uint8Array({ maxLength: 125 }) }), { maxLength: 3 }),
  mask: maskKey
})

type GeneratedMessage = typeof messageArb extends fc.Arbitrary<infer T> ? T : never

function encodeStream (messages: GeneratedMessage[]): { bytes: Buffer, expected: Event[] } {
  const frames: Buffer[] = []
  const expected: Event[] = []
  for (const message of messages) {
    const payload = message.binary ? Buffer.from(message.bytes) : Buffer.from(message.text, 'utf8')
    const fragments = chunk(payload, message.cuts)
    fragments.forEach((fragment, index) => {
      const opcode = index === 0 ? (message.binary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation
      frames.push(...encodeFrame(opcode, fragment, { fin: index === fragments.length - 1, maskKey: message.mask }))
      const control = message.controls[index]
      if (control !== undefined && index < fragments.length - 1) {
        frames.push(...encodeFrame(control.ping ? Opcode.Ping : Opcode.Pong, Buffer.from(control.data), { maskKey: message.mask }))
        expected.push([control.ping ? 'ping' : 'pong', Buffer.from(control.data).toString('hex')])
      }
    })
    expected.push(['message', payload.toString('hex'), message.binary])
  }
  return { bytes: Buffer.concat(frames), expected }
}

t.test('any valid frame stream in any chunking gives the same events and bytes out', async (t) => {
  fc.assert(fc.property(
    fc.array(messageArb, { maxLength: 6 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
    (messages, cuts) => {
      const { bytes, expected } = encodeStream(messages)
      const whole = feed([bytes])
      const chunked = feed(chunk(bytes, cuts))
      t.same(whole.events, expected)
      t.same(chunked.events, expected)
      t.equal(chunked.written, whole.written)
    }
  ), { numRuns: 150 })
})

t.test('the same stream fed one byte at a time gives the same events', async (t) => {
  fc.assert(fc.property(fc.array(messageArb, { maxLength: 3 }), (messages) => {
    const { bytes, expected } = encodeStream(messages)
    const pieces: Buffer[] = []
    for (let i = 0; i < bytes.length; i++) pieces.push(bytes.subarray(i, i + 1))
    t.same(feed(pieces).events, expected)
  }), { numRuns: 25 })
})

t.test('arbitrary bytes: never throws, at most one error, nothing after it, bounded buffering', async (t) => {
  const limit = 4096
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 2000 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
    (bytes, cuts) => {
      const { protocol, events } = record(limit)
      for (const piece of chunk(Buffer.from(bytes), cuts)) {
        protocol.receive(Buffer.from(piece))
        // Once every event is pulled, only a header (14 bytes) or a control frame (2 + 4 + 125)
        // is ever held back.
        t.ok(protocol.inner.bufferedInput <= 14 + 125, 'unparsed bytes stay bounded')
      }
      const errors = events.filter((event) => event[0] === 'error')
      t.ok(errors.length <= 1, 'at most one protocol error')
      if (errors.length === 1) {
        t.equal(events[events.length - 1][0], 'error', 'nothing is emitted after the error')
        t.ok([1002, 1007, 1009].includes(errors[0][2] as number), 'a protocol close code')
      }
      for (const event of events) {
        if (event[0] === 'message') t.ok(event[1].length / 2 <= limit, 'no message over the limit')
      }
    }
  ), { numRuns: 400 })
})

t.test('arbitrary masked frames with random headers: clean result, never a throw', async (t) => {
  const frameArb = fc.record({
    b0: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 300 }),
    mask: maskKey
  })
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 8 }), (frames) => {
    const bytes = Buffer.concat(frames.map((frame) => {
      const encoded = Buffer.concat(encodeFrame(0, Buffer.from(frame.payload), { maskKey: frame.mask }))
      encoded[0] = frame.b0
      return encoded
    }))
    const { protocol, events } = record()
    t.doesNotThrow(() => protocol.receive(bytes))
    t.ok(events.filter((event) => event[0] === 'error').length <= 1)
  }), { numRuns: 300 })
})

t.test('streaming UTF-8 validation agrees with buffer.isUtf8 at every split', async (t) => {
  const utf8ish = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => Buffer.from(s, 'utf8')),
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    // Valid text with one random byte replaced: invalid sequences in realistic places.
    fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.nat(), fc.integer({ min: 0x80, max: 0xff }))
      .map(([s, at, byte]) => { const b = Buffer.from(s, 'utf8'); b[at % b.length] = byte; return b })
  )
  fc.assert(fc.property(utf8ish, fc.array(fc.nat(), { maxLength: 4 }), (bytes, splits) => {
    const expected = isUtf8(bytes)
    const offsets = [...new Set(splits.map((s) => s % (bytes.length + 1)))].sort((a, b) => a - b)
    const validator = new Utf8Validator()
    let ok = true
    let start = 0
    for (const offset of [...offsets, bytes.length]) {
      if (ok) ok = validator.write(bytes.subarray(start, offset))
      start = offset
    }
    if (ok) ok = !validator.incomplete
    t.equal(ok, expected, bytes.toString('hex'))
  }), { numRuns: 2000 })
})
