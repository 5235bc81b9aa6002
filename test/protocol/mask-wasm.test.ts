// The WebAssembly side of masking: the binary emitter, the kernel module (fixed memory, lazy
// compilation), feature detection and the fallback when WebAssembly or its SIMD is missing.
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { applyMask, setMaskKernel } from '../../src/protocol/mask.js'
import { createWasmSimdMasker, WasmSimdMasker, type WasmApi } from '../../src/protocol/mask-wasm.js'
import { KERNEL_MEMORY_SIZE, maskKernelModuleBytes } from '../../src/protocol/wasm/mask-kernel-module.js'
import { Op, ValueType, emitModule, i32Const, s32, u32 } from '../../src/protocol/wasm/wasm-emitter.js'
import { xorMask } from '../helpers/frames.js'

const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d])

/** The real WebAssembly global, typed with what these tests use of it. */
const realWasm = (globalThis as unknown as { WebAssembly: WasmApi & {
  Module: WasmApi['Module'] & { exports (module: object): Array<{ name: string, kind: string }> }
} }).WebAssembly

t.test('the module is compiled on the first buffer that needs it, and only once', async (t) => {
  // First in this file (one process per test file): nothing has masked a large buffer yet.
  const RealModule = realWasm.Module
  let compiled = 0
  realWasm.Module = class CountingModule extends RealModule {
    constructor (bytes: Uint8Array) { super(bytes); compiled++ }
  } as typeof RealModule
  t.teardown(() => { realWasm.Module = RealModule })
  applyMask(Buffer.alloc(100, 1), KEY, 0)
  t.equal(compiled, 0, 'a small buffer takes the byte loop and compiles nothing')
  const data = Buffer.alloc(5000, 7)
  applyMask(data, KEY, 0)
  t.equal(compiled, 1, 'the first large buffer compiles the kernel')
  applyMask(data, KEY, 0)
  t.ok(data.equals(Buffer.alloc(5000, 7)), 'masking twice restores the data')
  setMaskKernel('js')
  setMaskKernel('auto')
  t.equal(compiled, 1, 'later calls and kernel switches reuse the instance')
})

t.test('LEB128 encodings (WebAssembly Core Specification §5.2.2)', async (t) => {
  t.same(u32(0), [0x00])
  t.same(u32(127), [0x7f])
  t.same(u32(128), [0x80, 0x01])
  t.same(u32(624485), [0xe5, 0x8e, 0x26])
  t.same(u32(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f])
  t.same(s32(0), [0x00])
  t.same(s32(63), [0x3f])
  t.same(s32(64), [0xc0, 0x00])
  t.same(s32(-1), [0x7f])
  t.same(s32(-64), [0x40])
  t.same(s32(-65), [0xbf, 0x7f])
  t.same(s32(-123456), [0xc0, 0xbb, 0x78])
  t.same(s32(0x7fffffff), [0xff, 0xff, 0xff, 0xff, 0x07])
  t.same(s32(-0x80000000), [0x80, 0x80, 0x80, 0x80, 0x78])
  t.same(i32Const(64), [Op.i32Const, 0xc0, 0x00])
  for (const bad of [-1, 2 ** 32, 1.5, NaN]) t.throws(() => u32(bad), RangeError, `u32(${bad})`)
  for (const bad of [2 ** 31, -(2 ** 31) - 1, 0.5]) t.throws(() => s32(bad), RangeError, `s32(${bad})`)
})

t.test('emitModule writes modules the engine accepts and runs', async (t) => {
  // (func (export "addSeven") (param i32) (result i32) (i32.add (local.get 0) (i32.const 7)))
  const bytes = emitModule({
    memoryPages: 1,
    memoryName: 'mem',
    functions: [{
      name: 'addSeven',
      params: [ValueType.i32],
      results: [ValueType.i32],
      locals: [],
      body: [Op.localGet, 0, ...i32Const(7), Op.i32Add]
    }]
  })
  t.same([...bytes.subarray(0, 8)], [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0], 'magic and version')
  t.ok(realWasm.validate(bytes))
  const instance = new realWasm.Instance(new realWasm.Module(bytes), {})
  const exports = instance.exports as { addSeven: (x: number) => number, mem: { buffer: ArrayBuffer } }
  t.equal(exports.addSeven(35), 42)
  t.equal(exports.mem.buffer.byteLength, 65536)
})

t.test('the kernel module: its exports, and a memory that cannot grow (views never detach)', async (t) => {
  const bytes = maskKernelModuleBytes()
  t.ok(realWasm.validate(bytes), 'valid here (this engine has 128-bit SIMD)')
  t.ok(bytes.length < 200, `small: ${bytes.length} bytes`)
  const module = new realWasm.Module(bytes)
  t.same(realWasm.Module.exports(module), [{ name: 'memory', kind: 'memory' }, { name: 'xor', kind: 'function' }])
  const exports = new realWasm.Instance(module, {}).exports as {
    memory: { buffer: ArrayBuffer, grow (pages: number): number }
    xor: (at: number, length: number, key: number) => void
  }
  const buffer = exports.memory.buffer
  t.equal(buffer.byteLength, KERNEL_MEMORY_SIZE)
  t.throws(() => exports.memory.grow(1), RangeError, 'maximum = minimum: growing fails')
  t.equal(exports.memory.buffer, buffer, 'still the same ArrayBuffer')
  // The kernel itself: whole 64-byte blocks, key little-endian.
  const view = new Uint8Array(buffer)
  view.fill(0x0f, 0, 192)
  exports.xor(64, 64, 0x04030201)
  t.same([...view.subarray(60, 72)], [15, 15, 15, 15, 14, 13, 12, 11, 14, 13, 12, 11], 'XORed from byte 64, key bytes 01 02 03 04 in order')
  t.equal(view[127], 0x0f ^ 4)
  t.equal(view[128], 0x0f, 'stops at the end of the last block')
  exports.xor(0, 0, 0x04030201)
  t.equal(view[0], 0x0f, 'length 0 does nothing')
})

t.test('WasmSimdMasker keeps one window across many calls of every size', async (t) => {
  const masker = createWasmSimdMasker()
  t.ok(masker instanceof WasmSimdMasker)
  const sizes = [1, 63, 64, 65, 65535, 65536, 65537, 200_000]
  for (let round = 0; round < 3; round++) {
    for (const size of sizes) {
      const data = Buffer.alloc(size)
      for (let i = 0; i < size; i++) data[i] = (i * 7 + round) & 0xff
      const expected = xorMask(data, KEY, round)
      masker!.maskInPlace(data, KEY, round)
      t.ok(data.equals(expected), `round ${round}, ${size} B`)
    }
  }
})

t.test('createWasmSimdMasker returns null when WebAssembly, its SIMD, or an instance is missing', async (t) => {
  t.equal(createWasmSimdMasker(null), null, 'no WebAssembly at all')
  // This machine's engine has SIMD, so an engine without it is stood in for by its answer.
  let compiled = false
  const noSimd: WasmApi = {
    validate: () => false,
    Module: class { constructor () { compiled = true } },
    Instance: class { exports = {} }
  }
  t.equal(createWasmSimdMasker(noSimd), null, 'validate() says no: the JS kernels serve')
  t.notOk(compiled, 'and nothing is compiled')
  const failing: WasmApi = {
    validate: (bytes) => realWasm.validate(bytes),
    Module: realWasm.Module,
    Instance: class { constructor () { throw new RangeError('WebAssembly.Instance(): Out of memory') } } as unknown as WasmApi['Instance']
  }
  t.equal(createWasmSimdMasker(failing), null, 'an instantiation failure costs speed, not correctness')
})

t.test('setMaskKernel: choices, the kernel in use, and misuse', async (t) => {
  t.teardown(() => { setMaskKernel('auto') })
  t.equal(setMaskKernel('js'), 'js')
  t.equal(setMaskKernel('wasm-simd'), 'wasm-simd')
  t.equal(setMaskKernel('auto'), 'wasm-simd')
  t.throws(() => setMaskKernel('simd' as 'js'), TypeError)
})

t.test('under node --jitless (no WebAssembly at all) masking runs on the JS kernels', async (t) => {
  // A real engine without WebAssembly: the child runs this file's loaders plus --jitless.
  const maskModule = fileURLToPath(new URL('../../src/protocol/mask.ts', import.meta.url))
  const script = `
    const { applyMask, copyMasked, setMaskKernel } = await import(${JSON.stringify(maskModule)})
    const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d])
    const data = Buffer.alloc(100_003)
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff
    const expected = Buffer.from(data)
    for (let i = 0; i < expected.length; i++) expected[i] ^= key[(i + 3) % 4]
    const work = Buffer.from(data)
    applyMask(work, key, 3)
    const copy = Buffer.alloc(data.length)
    copyMasked(data, key, copy, 0, 3)
    let insisted = 'no error'
    try { setMaskKernel('wasm-simd') } catch (error) { insisted = error.message }
    console.log(JSON.stringify({
      webAssembly: typeof WebAssembly, inUse: setMaskKernel('auto'), insisted,
      inPlace: work.equals(expected), copied: copy.equals(expected)
    }))
  `
  const child = spawn(process.execPath, [...process.execArgv, '--jitless', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  t.equal(code, 0, `child exit code (stderr: ${stderr.slice(0, 2000)})`)
  const line = stdout.trim().split('\n').at(-1) ?? ''
  t.same(JSON.parse(line), {
    webAssembly: 'undefined',
    inUse: 'js',
    insisted: 'WebAssembly SIMD is not available in this JavaScript engine',
    inPlace: true,
    copied: true
  })
})
