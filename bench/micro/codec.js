// Codec micro-benchmarks: parser, serializer, masking, UTF-8 validation, on the built package.
// `npm run build && node bench/micro/codec.js` (add --json for one JSON line per case).
//
// Each case runs for about 300 ms after a warm-up and reports the time per operation and the
// throughput. The parser unmasks in place, so every parser iteration first restores the input
// from a pristine copy; "copy only" shows what that restore costs.
import { isUtf8 } from 'node:buffer'
import { createRequire } from 'node:module'
import {
  FrameParser, WebSocketProtocol, encodeFrame, applyMask, Utf8Validator, Opcode
} from '../../dist/cjs/protocol/index.js'

const JSON_OUT = process.argv.includes('--json')
const TARGET_NS = 300e6
let sink = 0 // results flow here so no work is optimised away

function bench (name, bytesPerOp, fn) {
  // warm-up: let the JIT settle
  let ops = 0
  const warmEnd = process.hrtime.bigint() + 100_000_000n
  while (process.hrtime.bigint() < warmEnd) { fn(); ops++ }
  // size the batch so a timing call is amortised
  const batch = Math.max(1, Math.ceil(ops / 50))
  let total = 0
  let elapsed = 0n
  const start = process.hrtime.bigint()
  while (elapsed < BigInt(TARGET_NS)) {
    for (let i = 0; i < batch; i++) fn()
    total += batch
    elapsed = process.hrtime.bigint() - start
  }
  const nsPerOp = Number(elapsed) / total
  const mbps = bytesPerOp ? bytesPerOp / nsPerOp * 1e3 : undefined // bytes/ns → MB/s
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ name, ns_per_op: nsPerOp, mb_per_s: mbps }) + '\n')
  } else {
    const time = nsPerOp >= 1e6 ? `${(nsPerOp / 1e6).toFixed(2)} ms` : nsPerOp >= 1e3 ? `${(nsPerOp / 1e3).toFixed(2)} µs` : `${nsPerOp.toFixed(1)} ns`
    process.stdout.write(`  ${name.padEnd(66)} ${time.padStart(10)}/op${mbps === undefined ? '' : `  ${mbps.toFixed(0).padStart(7)} MB/s`}\n`)
  }
  return nsPerOp
}

function section (title) {
  if (!JSON_OUT) process.stdout.write(`\n${title}\n`)
}

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d])

function payloadOf (size, text) {
  const b = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) b[i] = text ? 0x61 + (i * 7) % 26 : (i * 31 + 7) & 0xff
  return b
}

function maskedFrames (count, size, opcode) {
  const payload = payloadOf(size, opcode === Opcode.Text)
  const frames = []
  for (let i = 0; i < count; i++) frames.push(...encodeFrame(opcode, payload, { maskKey: MASK }))
  return Buffer.concat(frames)
}

// ---------------------------------------------------------------- parser

section('FrameParser (server role, masked input; one push per iteration)')
{
  const counting = {
    frames: 0,
    bytes: 0,
    onDataFrameStart () {},
    onDataPayload (piece) { this.bytes += piece.length },
    onDataFrameEnd () { this.frames++ },
    onControlFrame () {},
    onFrameError (error) { throw error }
  }
  const parser = new FrameParser(counting, { role: 'server' })

  const FRAMES = 1000
  const small = maskedFrames(FRAMES, 64, Opcode.Binary)
  const smallWork = Buffer.allocUnsafe(small.length)
  bench(`copy only (${small.length} B, the restore before each push)`, small.length, () => { small.copy(smallWork) })
  const ns = bench(`${FRAMES} × 64 B binary frames in one chunk`, FRAMES * 64, () => {
    small.copy(smallWork)
    parser.push(smallWork)
  })
  if (!JSON_OUT) process.stdout.write(`    → ${(ns / FRAMES).toFixed(1)} ns per 64 B frame\n`)

  const big = maskedFrames(1, 1024 * 1024, Opcode.Binary)
  const bigWork = Buffer.allocUnsafe(big.length)
  bench('one 1 MiB binary frame in one chunk', 1024 * 1024, () => {
    big.copy(bigWork)
    parser.push(bigWork)
  })
  const pieces = []
  for (let o = 0; o < bigWork.length; o += 65536) pieces.push(bigWork.subarray(o, Math.min(o + 65536, bigWork.length)))
  bench('one 1 MiB binary frame in 64 KiB chunks', 1024 * 1024, () => {
    big.copy(bigWork)
    for (const piece of pieces) parser.push(piece)
  })
  sink += counting.frames + counting.bytes
}

section('WebSocketProtocol.receive (parse + assemble + UTF-8 + onMessage; server role)')
{
  let messages = 0
  const handler = {
    write () {},
    onMessage (data) { messages++; sink += data.length },
    onPing () {},
    onPong () {},
    onClose () {},
    onProtocolError (error) { throw error }
  }
  const FRAMES = 1000
  for (const [label, opcode] of [['binary', Opcode.Binary], ['text', Opcode.Text]]) {
    const protocol = new WebSocketProtocol(handler, { role: 'server', maxMessageSize: 64 * 1024 * 1024 })
    const chunk = maskedFrames(FRAMES, 64, opcode)
    const work = Buffer.allocUnsafe(chunk.length)
    const ns = bench(`${FRAMES} × 64 B ${label} messages in one chunk`, FRAMES * 64, () => {
      chunk.copy(work)
      protocol.receive(work)
    })
    if (!JSON_OUT) process.stdout.write(`    → ${(ns / FRAMES).toFixed(1)} ns per 64 B ${label} message\n`)
  }
  {
    const protocol = new WebSocketProtocol(handler, { role: 'server', maxMessageSize: 64 * 1024 * 1024 })
    const chunk = maskedFrames(1, 1024 * 1024, Opcode.Text)
    const work = Buffer.allocUnsafe(chunk.length)
    const pieces = []
    for (let o = 0; o < work.length; o += 65536) pieces.push(work.subarray(o, Math.min(o + 65536, work.length)))
    bench('one 1 MiB text message in 64 KiB chunks', 1024 * 1024, () => {
      chunk.copy(work)
      for (const piece of pieces) protocol.receive(piece)
    })
  }
  sink += messages
}

// ---------------------------------------------------------------- serializer

section('encodeFrame (serializer)')
{
  for (const size of [64, 1024, 65536, 1024 * 1024]) {
    const payload = payloadOf(size, false)
    bench(`server frame, ${size} B payload (no mask)`, size, () => {
      const chunks = encodeFrame(Opcode.Binary, payload)
      sink += chunks.length
    })
  }
  for (const size of [64, 65536]) {
    const payload = payloadOf(size, false)
    bench(`client frame, ${size} B payload (masked copy)`, size, () => {
      const chunks = encodeFrame(Opcode.Binary, payload, { maskKey: MASK })
      sink += chunks.length
    })
  }
}

// ---------------------------------------------------------------- masking

function naiveMask (data, mask) {
  for (let i = 0; i < data.length; i++) data[i] ^= mask[i & 3]
}

let bufferUtil = null
try {
  bufferUtil = createRequire(import.meta.url)('bufferutil')
} catch {}

section('masking, in place')
for (const size of [64, 65536, 1024 * 1024]) {
  const data = payloadOf(size, false)
  bench(`applyMask ${size} B`, size, () => { applyMask(data, MASK, 0) })
  bench(`naive byte loop ${size} B`, size, () => { naiveMask(data, MASK) })
  if (bufferUtil) bench(`bufferutil.unmask ${size} B (native addon, reference)`, size, () => { bufferUtil.unmask(data, MASK) })
  sink += data[0]
}

// ---------------------------------------------------------------- UTF-8

function mixedUtf8 (size) {
  // ~1/3 ASCII, the rest 2-, 3- and 4-byte sequences, cut at a character boundary
  const text = 'hello, wörld — 日本語テキスト 🎉 ascii '.repeat(Math.ceil(size / 40) + 1)
  let b = Buffer.from(text, 'utf8')
  let end = size
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--
  b = b.subarray(0, end)
  return Buffer.from(b)
}

section('UTF-8 validation (valid input)')
{
  const validator = new Utf8Validator()
  const cases = [
    ['64 B ASCII', payloadOf(64, true)],
    ['64 KiB ASCII', payloadOf(65536, true)],
    ['64 KiB mixed', mixedUtf8(65536)],
    ['1 MiB mixed', mixedUtf8(1024 * 1024)]
  ]
  for (const [label, data] of cases) {
    if (!isUtf8(data)) throw new Error(`fixture ${label} is not UTF-8`)
    bench(`Utf8Validator.write ${label}`, data.length, () => {
      validator.reset()
      if (!validator.write(data) || validator.incomplete) throw new Error('rejected')
    })
    bench(`buffer.isUtf8 ${label}`, data.length, () => { sink += isUtf8(data) ? 1 : 0 })
  }
  const mixed = mixedUtf8(1024 * 1024)
  const pieces = []
  for (let o = 0; o < mixed.length; o += 1000) pieces.push(mixed.subarray(o, Math.min(o + 1000, mixed.length)))
  bench('Utf8Validator.write 1 MiB mixed in 1000 B pieces (split sequences)', mixed.length, () => {
    validator.reset()
    for (const piece of pieces) if (!validator.write(piece)) throw new Error('rejected')
    if (validator.incomplete) throw new Error('incomplete')
  })
}

if (sink === 0.5) process.stdout.write('')
