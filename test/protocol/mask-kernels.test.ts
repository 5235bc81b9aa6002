// Every masking kernel, and applyMask / copyMasked with the WebAssembly kernel and with the
// JS fallback forced, against the naive per-byte reference (xorMask): every length 0..4096
// plus window and tail edges up to 1 MiB + 7, random mask offsets (0-3 and beyond 2^32),
// random alignments (byteOffset 0-15) and random keys, a zero key among them. Guard bytes
// around every view catch writes outside it. Seeds are fixed and printed with each failure.
import t, { type Test } from 'tap'
import { applyMask, copyMasked, setMaskKernel, LARGE_KERNEL_MIN_SIZE } from '../../src/protocol/mask.js'
import { maskBytesIntoJs, maskBytesJs, maskWordsJs } from '../../src/protocol/mask-js.js'
import { WasmSimdMasker, createWasmSimdMasker } from '../../src/protocol/mask-wasm.js'
import { xorMask } from '../helpers/frames.js'
import { randomBytes, randomInt, seededRandom } from '../helpers/seeded-random.js'

const GUARD = 0xa5
const MAX_BYTE_OFFSET = 15

/** Lengths: every one up to 4096, then the edges of the 64 KiB window and large odd tails. */
const ALL_SMALL_LENGTHS = Array.from({ length: 4097 }, (_, i) => i)
const WINDOW = WasmSimdMasker.WINDOW_SIZE
const LARGE_LENGTHS = [
  WINDOW - 65, WINDOW - 1, WINDOW, WINDOW + 1, WINDOW + 63, WINDOW + 64,
  2 * WINDOW + 5, 1024 * 1024, 1024 * 1024 + 1, 1024 * 1024 + 3, 1024 * 1024 + 7
]

/** Random source bytes, sliced per case (drawing fresh bytes per case would dominate the runtime). */
const pool = randomBytes(seededRandom(0xb17e5), 1024 * 1024 + 64)

interface Case {
  length: number
  key: Buffer
  /** Position of the first byte in the payload's mask cycle. */
  offset: number
  byteOffset: number
  data: Buffer
}

function makeCase (random: () => number, length: number): Case {
  // One key in 8 is all zero (legal, and a no-op); others may contain zero bytes.
  const key = random() < 0.125 ? Buffer.alloc(4) : Buffer.from([0, 1, 2, 3].map(() => random() < 0.1 ? 0 : randomInt(random, 1, 255)))
  // Mostly 0-3; sometimes a large running offset, as for the pieces of a huge payload.
  const offset = random() < 0.8 ? randomInt(random, 0, 3) : randomInt(random, 4, 2 ** 40)
  const start = randomInt(random, 0, pool.length - length)
  return { length, key, offset, byteOffset: randomInt(random, 0, MAX_BYTE_OFFSET), data: pool.subarray(start, start + length) }
}

function describe (seed: number, c: Case): string {
  return `seed 0x${seed.toString(16)}: length ${c.length}, key ${c.key.toString('hex')}, offset ${c.offset}, byteOffset ${c.byteOffset}`
}

/** The data copied into a guarded backing buffer at `byteOffset`: [guards | view | guards]. */
function guarded (c: Case): { backing: Buffer, view: Buffer } {
  const backing = Buffer.alloc(c.length + MAX_BYTE_OFFSET + 16, GUARD)
  c.data.copy(backing, c.byteOffset)
  return { backing, view: backing.subarray(c.byteOffset, c.byteOffset + c.length) }
}

function guardsIntact (backing: Buffer, from: number, to: number): boolean {
  for (let i = 0; i < from; i++) if (backing[i] !== GUARD) return false
  for (let i = to; i < backing.length; i++) if (backing[i] !== GUARD) return false
  return true
}

type InPlace = (data: Uint8Array, key: Uint8Array, offset: number) => void
type Into = (source: Uint8Array, key: Uint8Array, offset: number, target: Uint8Array, targetOffset: number) => void

/** Runs an in-place kernel over `lengths`, one random case per length; returns failure descriptions. */
function checkInPlace (kernel: InPlace, seed: number, lengths: readonly number[]): { cases: number, failures: string[] } {
  const random = seededRandom(seed)
  const failures: string[] = []
  for (const length of lengths) {
    const c = makeCase(random, length)
    const expected = xorMask(c.data, c.key, c.offset)
    const { backing, view } = guarded(c)
    kernel(view, c.key, c.offset)
    if (!view.equals(expected)) failures.push(`${describe(seed, c)}: wrong bytes`)
    if (!guardsIntact(backing, c.byteOffset, c.byteOffset + length)) failures.push(`${describe(seed, c)}: wrote outside the view`)
  }
  return { cases: lengths.length, failures }
}

/** The same for a copying kernel: the target gets the masked bytes, the source stays as it was. */
function checkInto (kernel: Into, seed: number, lengths: readonly number[]): { cases: number, failures: string[] } {
  const random = seededRandom(seed)
  const failures: string[] = []
  for (const length of lengths) {
    const c = makeCase(random, length)
    const expected = xorMask(c.data, c.key, c.offset)
    const { view: source } = guarded(c)
    const original = Buffer.from(source)
    // The target region sits at a random offset inside a guarded target view, itself unaligned.
    const targetOffset = randomInt(random, 0, 9)
    const targetByteOffset = randomInt(random, 0, MAX_BYTE_OFFSET)
    const targetBacking = Buffer.alloc(length + targetOffset + targetByteOffset + 16, GUARD)
    const target = targetBacking.subarray(targetByteOffset, targetByteOffset + targetOffset + length)
    kernel(source, c.key, c.offset, target, targetOffset)
    const where = `${describe(seed, c)}, targetOffset ${targetOffset}, target byteOffset ${targetByteOffset}`
    if (!target.subarray(targetOffset).equals(expected)) failures.push(`${where}: wrong bytes`)
    if (!source.equals(original)) failures.push(`${where}: changed the source`)
    const start = targetByteOffset + targetOffset
    if (!guardsIntact(targetBacking, start, start + length)) failures.push(`${where}: wrote outside the target region`)
  }
  return { cases: lengths.length, failures }
}

function report (t: Test, name: string, result: { cases: number, failures: string[] }): void {
  // At most 20 failures listed, each with the seed and the case that reproduces it.
  t.same(result.failures.slice(0, 20), [], `${name}: ${result.cases} cases agree with the naive XOR (${result.failures.length} failures)`)
}

const wasm = createWasmSimdMasker()

t.test('this machine has WebAssembly SIMD, so the WebAssembly kernel is really under test here', async (t) => {
  t.ok(wasm instanceof WasmSimdMasker)
  t.equal(setMaskKernel('wasm-simd'), 'wasm-simd')
  t.equal(setMaskKernel('auto'), 'wasm-simd')
})

t.test('the kernels alone, every length 0..4096 and the large edges', async (t) => {
  const lengths = [...ALL_SMALL_LENGTHS, ...LARGE_LENGTHS]
  report(t, 'maskBytesJs', checkInPlace(maskBytesJs, 0x1001, lengths))
  report(t, 'maskWordsJs', checkInPlace(maskWordsJs, 0x1002, lengths))
  report(t, 'maskBytesIntoJs', checkInto(maskBytesIntoJs, 0x1003, lengths))
  report(t, 'WasmSimdMasker.maskInPlace', checkInPlace((d, k, o) => wasm!.maskInPlace(d, k, o), 0x1004, lengths))
  report(t, 'WasmSimdMasker.maskInto', checkInto((s, k, o, d, to) => wasm!.maskInto(s, k, o, d, to), 0x1005, lengths))
})

for (const choice of ['auto', 'js'] as const) {
  t.test(`applyMask and copyMasked with setMaskKernel('${choice}'), every length 0..4096 and the large edges`, async (t) => {
    const inUse = setMaskKernel(choice)
    t.teardown(() => { setMaskKernel('auto') })
    t.equal(inUse, choice === 'auto' ? 'wasm-simd' : 'js')
    const lengths = [...ALL_SMALL_LENGTHS, ...LARGE_LENGTHS]
    const seed = choice === 'auto' ? 0x2001 : 0x3001
    report(t, 'applyMask', checkInPlace(applyMask, seed, lengths))
    report(t, 'copyMasked', checkInto((s, k, o, d, to) => copyMasked(s, k, d, to, o), seed + 1, lengths))
    // A second random round over the sizes around the kernel switch.
    const around = Array.from({ length: 64 }, (_, i) => LARGE_KERNEL_MIN_SIZE - 32 + i)
    report(t, 'applyMask around the kernel switch', checkInPlace(applyMask, seed + 2, [...around, ...around, ...around]))
  })
}

t.test('a payload masked in pieces of random sizes, with running offsets, equals one whole pass', async (t) => {
  for (const choice of ['auto', 'js'] as const) {
    setMaskKernel(choice)
    const seed = choice === 'auto' ? 0x4001 : 0x4002
    const random = seededRandom(seed)
    const key = Buffer.from([0x9e, 0x37, 0x79, 0xb9])
    const payload = pool.subarray(0, 300_000)
    const expected = xorMask(payload, key, 0)
    const work = Buffer.from(payload)
    const cuts: number[] = []
    let at = 0
    while (at < work.length) {
      // Sizes from tiny to more than one window, as socket reads cut them.
      const size = Math.min(work.length - at, randomInt(random, 0, 3) === 0 ? randomInt(random, 1, 200) : randomInt(random, 200, 90_000))
      applyMask(work.subarray(at, at + size), key, at)
      cuts.push(size)
      at += size
    }
    t.ok(work.equals(expected), `${choice}: seed 0x${seed.toString(16)}, pieces ${cuts.join(',')}`)
  }
  setMaskKernel('auto')
})
