// Codec micro-benchmarks: parser, serializer, masking, UTF-8 validation, on the built package.
// `npm run build && node bench/micro/codec.js` (add --json for one JSON line per case,
// --section NAME to run only the sections whose title contains NAME, e.g. --section masking,
// --reps N to run each cell of the size sweeps N times and keep the fastest).
//
// Each case runs for about 300 ms after a warm-up and reports the time per operation and the
// throughput. The parser unmasks in place, so every parser iteration first restores the input
// from a pristine copy; "copy only" shows what that restore costs. The masking and UTF-8 size
// sweeps run each cell for about 120 ms (best of --reps) and print tables of GB/s (10⁹ bytes/s).
import { isUtf8 } from 'node:buffer'
import { createRequire } from 'node:module'
import {
  FrameParser, WebSocketProtocol, encodeFrame, applyMask, Utf8Validator, Opcode
} from '../../dist/cjs/protocol/index.js'
import { copyMasked, setMaskKernel, LARGE_KERNEL_MIN_SIZE } from '../../dist/cjs/protocol/mask.js'
import { maskBytesJs, maskWordsJs } from '../../dist/cjs/protocol/mask-js.js'
import { createWasmSimdMasker } from '../../dist/cjs/protocol/mask-wasm.js'
import { EMPTY_BLOCK, Op, SimdOp, ValueType, emitModule, i32Const, simd, v128Memory } from '../../dist/cjs/protocol/wasm/wasm-emitter.js'

const JSON_OUT = process.argv.includes('--json')
const SECTION_FILTER = process.argv.includes('--section') ? process.argv[process.argv.indexOf('--section') + 1] : undefined
const SWEEP_REPS = process.argv.includes('--reps') ? Number(process.argv[process.argv.indexOf('--reps') + 1]) : 1
const TARGET_NS = 300e6
let sink = 0 // results flow here so no work is optimised away

/** Runs `fn` after a warm-up until `targetNs` have passed; returns ns per call. */
function measure (fn, targetNs = TARGET_NS, warmNs = 100_000_000) {
  // warm-up: let the JIT settle
  let ops = 0
  const warmEnd = process.hrtime.bigint() + BigInt(warmNs)
  while (process.hrtime.bigint() < warmEnd) { fn(); ops++ }
  // size the batch so a timing call is amortised
  const batch = Math.max(1, Math.ceil(ops / 50))
  let total = 0
  let elapsed = 0n
  const start = process.hrtime.bigint()
  while (elapsed < BigInt(targetNs)) {
    for (let i = 0; i < batch; i++) fn()
    total += batch
    elapsed = process.hrtime.bigint() - start
  }
  return Number(elapsed) / total
}

function bench (name, bytesPerOp, fn) {
  const nsPerOp = measure(fn)
  const mbps = bytesPerOp ? bytesPerOp / nsPerOp * 1e3 : undefined // bytes/ns → MB/s
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ name, ns_per_op: nsPerOp, mb_per_s: mbps }) + '\n')
  } else {
    const time = nsPerOp >= 1e6 ? `${(nsPerOp / 1e6).toFixed(2)} ms` : nsPerOp >= 1e3 ? `${(nsPerOp / 1e3).toFixed(2)} µs` : `${nsPerOp.toFixed(1)} ns`
    process.stdout.write(`  ${name.padEnd(66)} ${time.padStart(10)}/op${mbps === undefined ? '' : `  ${mbps.toFixed(0).padStart(7)} MB/s`}\n`)
  }
  return nsPerOp
}

/** Prints the title; false when --section filters this section out (its block is skipped). */
function section (title) {
  if (SECTION_FILTER !== undefined && !title.toLowerCase().includes(SECTION_FILTER.toLowerCase())) return false
  if (!JSON_OUT) process.stdout.write(`\n${title}\n`)
  return true
}

/**
 * A size sweep: for each row, each column's function runs on its own; prints one table of
 * GB/s (or one JSON line per cell with --json). `columns` maps a name to (row) => fn | undefined.
 */
function sweep (title, rows, columns) {
  const names = Object.keys(columns)
  if (!JSON_OUT) {
    process.stdout.write(`  | ${'case'.padEnd(24)} | ${names.map((n) => n.padStart(12)).join(' | ')} |\n`)
    process.stdout.write(`  | ${'-'.repeat(24)} | ${names.map(() => '-'.repeat(11) + ':').join(' | ')} |\n`)
  }
  for (const row of rows) {
    const fns = names.map((name) => columns[name](row))
    // Round-robin repetitions, keeping each column's fastest: other work on a shared machine
    // only ever slows a run down.
    const best = fns.map(() => Infinity)
    for (let rep = 0; rep < SWEEP_REPS; rep++) {
      fns.forEach((fn, i) => { if (fn !== undefined) best[i] = Math.min(best[i], measure(fn, 120e6, 40e6)) })
    }
    const cells = names.map((name, i) => {
      if (fns[i] === undefined) return '–'
      const gbps = row.bytes / best[i]
      if (JSON_OUT) process.stdout.write(JSON.stringify({ name: `${title}: ${name}, ${row.label}`, ns_per_op: best[i], mb_per_s: gbps * 1e3 }) + '\n')
      return gbps.toFixed(2)
    })
    if (!JSON_OUT) process.stdout.write(`  | ${row.label.padEnd(24)} | ${cells.map((c) => c.padStart(12)).join(' | ')} |\n`)
  }
}

function sizeLabel (size) {
  return size >= 1 << 20 ? `${size / (1 << 20)} MiB` : size >= 1024 ? `${size / 1024} KiB` : `${size} B`
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

if (section('FrameParser (server role, masked input; one push per iteration)')) {
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

if (section('WebSocketProtocol.receive (parse + assemble + UTF-8 + onMessage; server role)')) {
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

if (section('encodeFrame (serializer)')) {
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

/** The unmasking loop before the WebAssembly kernel (kept verbatim as the "JS old" reference). */
const oldScratchBytes = new Uint8Array(4)
const oldScratchWord = new Uint32Array(oldScratchBytes.buffer)
function applyMaskOld (data, mask, offset = 0) {
  const length = data.length
  if (length === 0) return
  const m0 = mask[0]; const m1 = mask[1]; const m2 = mask[2]; const m3 = mask[3]
  if ((m0 | m1 | m2 | m3) === 0) return
  if (length < 128) {
    for (let i = 0; i < length; i++) data[i] ^= mask[(i + offset) & 3]
    return
  }
  const lead = (4 - (data.byteOffset & 3)) & 3
  for (let i = 0; i < lead; i++) data[i] ^= mask[(i + offset) & 3]
  const start = (offset + lead) & 3
  oldScratchBytes[0] = mask[start]
  oldScratchBytes[1] = mask[(start + 1) & 3]
  oldScratchBytes[2] = mask[(start + 2) & 3]
  oldScratchBytes[3] = mask[(start + 3) & 3]
  const word = oldScratchWord[0]
  const words = (length - lead) >>> 2
  const view = new Uint32Array(data.buffer, data.byteOffset + lead, words)
  for (let i = 0; i < words; i++) view[i] ^= word
  for (let i = lead + words * 4; i < length; i++) data[i] ^= mask[(i + offset) & 3]
}

let bufferUtil = null
try {
  bufferUtil = createRequire(import.meta.url)('bufferutil')
} catch {}

const MASK_SIZES = [16, 64, 128, 256, 512, 1024, 2048, 4096, 16384, 65536, 262144, 1 << 20, 4 << 20]

if (section(`masking in place, GB/s: sizes 16 B .. 4 MiB, views at byteOffset 0 (aligned) and 1; mask offset 1
  JS old = the Uint32Array loop before this change; JS bytes / JS words64 = mask-js.ts kernels alone;
  WASM = mask-wasm.ts incl. copies in and out; applyMask = dispatch (JS bytes below ${LARGE_KERNEL_MIN_SIZE} B, WASM from there)`)) {
  const wasm = createWasmSimdMasker()
  if (wasm === null) process.stdout.write('  (no WebAssembly SIMD in this engine: the WASM column is empty)\n')
  const backing = Buffer.alloc((4 << 20) + 64, 0x5a)
  const rows = MASK_SIZES.flatMap((size) => [0, 1].map((byteOffset) => ({
    label: `${sizeLabel(size)}, byteOffset ${byteOffset}`,
    bytes: size,
    data: backing.subarray(byteOffset, byteOffset + size)
  })))
  sweep('masking in place', rows, {
    'JS old': ({ data }) => () => applyMaskOld(data, MASK, 1),
    'JS bytes': ({ data }) => data.length > 65536 ? undefined : () => maskBytesJs(data, MASK, 1),
    'JS words64': ({ data }) => () => maskWordsJs(data, MASK, 1),
    'WASM+copies': ({ data }) => wasm === null ? undefined : () => wasm.maskInPlace(data, MASK, 1),
    applyMask: ({ data }) => () => applyMask(data, MASK, 1),
    bufferutil: ({ data }) => bufferUtil === null ? undefined : () => bufferUtil.unmask(data, MASK)
  })
  sink += backing[7]
}

if (section('copyMasked (client frames: masked copy into the frame), GB/s; "old" = set() + the old in-place loop; "JS only" and "auto" include a setMaskKernel call (~6 ns) per op')) {
  const rows = [64, 256, 1024, 4096, 65536, 1 << 20].map((size) => ({
    label: sizeLabel(size),
    bytes: size,
    source: payloadOf(size, false),
    target: Buffer.allocUnsafe(size + 14)
  }))
  sweep('copyMasked', rows, {
    old: ({ source, target }) => () => { target.set(source, 14); applyMaskOld(target.subarray(14, 14 + source.length), MASK, 0) },
    'JS only': ({ source, target }) => () => { setMaskKernel('js'); copyMasked(source, MASK, target, 14) },
    auto: ({ source, target }) => () => { setMaskKernel('auto'); copyMasked(source, MASK, target, 14) },
    'bufferutil.mask': ({ source, target }) => bufferUtil === null ? undefined : () => bufferUtil.mask(source, MASK, target, 14, source.length)
  })
  setMaskKernel('auto')
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

if (section('UTF-8 validation (valid input)')) {
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

/**
 * The floor of any WebAssembly UTF-8 validator: copy the input into wasm memory and read every
 * byte once (OR of all 16-byte lanes, four accumulators). A real validator does strictly more
 * work, so if this loses to isUtf8, a validator does too.
 */
function wasmReadFloor () {
  if (typeof WebAssembly === 'undefined') return null
  const AT = 0; const LENGTH = 1; const END = 2; const A = 3; const B = 4; const C = 5; const D = 6
  const lane = (offset, acc) => [Op.localGet, acc, Op.localGet, AT, ...v128Memory(SimdOp.v128Load, offset), ...simd(SimdOp.v128Or), Op.localSet, acc]
  const bytes = emitModule({
    memoryPages: 1,
    memoryName: 'memory',
    functions: [{
      name: 'highBits', // (at, length) -> i8x16.bitmask of the OR of all bytes: 0 means all ASCII
      params: [ValueType.i32, ValueType.i32],
      results: [ValueType.i32],
      locals: [ValueType.i32, ValueType.v128, ValueType.v128, ValueType.v128, ValueType.v128],
      body: [
        Op.localGet, AT, Op.localGet, LENGTH, Op.i32Add, Op.localSet, END,
        Op.block, EMPTY_BLOCK, Op.loop, EMPTY_BLOCK,
        Op.localGet, AT, Op.localGet, END, Op.i32GeU, Op.brIf, 1,
        ...lane(0, A), ...lane(16, B), ...lane(32, C), ...lane(48, D),
        Op.localGet, AT, ...i32Const(64), Op.i32Add, Op.localSet, AT,
        Op.br, 0, Op.end, Op.end,
        Op.localGet, A, Op.localGet, B, ...simd(SimdOp.v128Or), Op.localGet, C, Op.localGet, D, ...simd(SimdOp.v128Or), ...simd(SimdOp.v128Or),
        ...simd(SimdOp.i8x16Bitmask)
      ]
    }]
  })
  if (!WebAssembly.validate(bytes)) return null
  const { memory, highBits } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports
  const window = new Uint8Array(memory.buffer)
  return (data) => {
    let bits = 0
    for (let done = 0; done < data.length; done += 65536) {
      const size = Math.min(65536, data.length - done)
      window.set(data.subarray(done, done + size), 0)
      window.fill(0, size, (size + 63) & ~63)
      bits |= highBits(0, (size + 63) & ~63)
    }
    return bits
  }
}

/** A pure-JS ASCII check (64-bit OR over the aligned middle, no early exit), for scale. */
const HIGH_BITS = -0x7f7f7f7f7f7f7f80n // 0x8080808080808080 as a signed 64-bit value
function jsHighBits (data) {
  const lead = Math.min(data.length, (8 - (data.byteOffset & 7)) & 7)
  let bytes = 0
  for (let i = 0; i < lead; i++) bytes |= data[i]
  const words = Math.floor((data.length - lead) / 8)
  const view = new BigInt64Array(data.buffer, data.byteOffset + lead, words)
  let a = 0n; let b = 0n
  let i = 0
  for (; i + 1 < words; i += 2) { a |= view[i]; b |= view[i + 1] }
  if (i < words) a |= view[i]
  for (let k = lead + words * 8; k < data.length; k++) bytes |= data[k]
  return (bytes & 0x80) | ((a | b) & HIGH_BITS ? 1 : 0)
}

if (section(`UTF-8: Node's isUtf8 (native simdutf) against the floor of a WebAssembly validator, GB/s
  WASM floor = copy into wasm memory + one SIMD read of every byte (no early exit); JS ASCII = 64-bit OR in JS`)) {
  const floor = wasmReadFloor()
  const rows = [1024, 16384, 65536, 1 << 20, 16 << 20].flatMap((size) => [
    { label: `${sizeLabel(size)} ASCII`, bytes: size, data: payloadOf(size, true) },
    { label: `${sizeLabel(size)} mixed`, bytes: size, data: mixedUtf8(size) }
  ])
  for (const row of rows) {
    row.bytes = row.data.length
    if (!isUtf8(row.data)) throw new Error(`fixture ${row.label} is not UTF-8`)
  }
  sweep('UTF-8', rows, {
    isUtf8: ({ data }) => () => { sink += isUtf8(data) ? 1 : 0 },
    'WASM floor': ({ data }) => floor === null ? undefined : () => { sink += floor(data) },
    'JS ASCII': ({ data }) => () => { sink += jsHighBits(data) }
  })
}

if (sink === 0.5) process.stdout.write('')
