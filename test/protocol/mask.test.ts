// applyMask and copyMasked agree with a naive per-byte XOR for every length, mask offset and
// alignment (the word kernels run over the aligned middle of the buffer, the WebAssembly one
// through its own memory). mask-kernels.test.ts checks each kernel alone and the forced fallback.
import t from 'tap'
import { applyMask, copyMasked, randomMaskKey } from '../../src/protocol/index.js'
import { setMaskKernel } from '../../src/protocol/mask.js'
import { xorMask } from '../helpers/frames.js'
import { randomBytes, seededRandom } from '../helpers/seeded-random.js'

const random = seededRandom(0x5eed)
const MASKS = [Buffer.from([0x37, 0xfa, 0x21, 0x3d]), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([1, 0, 0, 0]), Buffer.from([0, 0, 0, 0x80])]
const LENGTHS = [...Array.from({ length: 301 }, (_, i) => i), 1023, 1024, 4093, 65536, 65539, 1024 * 1024 + 3]

t.test('applyMask matches a naive XOR for every length 0..300 and some large ones, offsets 0-3, byteOffsets 0-3', async (t) => {
  let cases = 0
  const failures: string[] = []
  for (const length of LENGTHS) {
    const data = randomBytes(random, length)
    for (const mask of MASKS) {
      for (let offset = 0; offset < 4; offset++) {
        // Large lengths: fewer combinations, to keep the runtime low.
        if (length > 4096 && mask !== MASKS[0]) continue
        const expected = xorMask(data, mask, offset)
        for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
          // A view at an unaligned position inside a larger buffer, with guard bytes around it.
          const backing = Buffer.alloc(length + 8, 0xaa)
          data.copy(backing, byteOffset)
          const view = backing.subarray(byteOffset, byteOffset + length)
          applyMask(view, mask, offset)
          cases++
          if (!view.equals(expected)) failures.push(`length ${length} mask ${mask.toString('hex')} offset ${offset} byteOffset ${byteOffset}`)
          const guardsIntact = backing.subarray(0, byteOffset).every((b) => b === 0xaa) && backing.subarray(byteOffset + length).every((b) => b === 0xaa)
          if (!guardsIntact) failures.push(`length ${length} byteOffset ${byteOffset}: wrote outside the view`)
        }
      }
    }
  }
  t.same(failures, [], `${cases} cases agree with the naive XOR`)
  t.ok(cases > 10000)
})

t.test('applyMask on a Uint8Array view of a shared ArrayBuffer', async (t) => {
  const buffer = new ArrayBuffer(100)
  const whole = new Uint8Array(buffer)
  for (let i = 0; i < 100; i++) whole[i] = i
  const view = new Uint8Array(buffer, 3, 90)
  const expected = xorMask(view, MASKS[0], 2)
  applyMask(view, MASKS[0], 2)
  t.same(Buffer.from(view), expected)
  t.equal(whole[2], 2, 'byte before the view untouched')
  t.equal(whole[93], 93, 'byte after the view untouched')
})

t.test('the zero mask leaves data untouched, at every size', async (t) => {
  for (const length of [0, 1, 31, 32, 33, 1000]) {
    const data = randomBytes(random, length)
    const copy = Buffer.from(data)
    applyMask(data, Buffer.alloc(4), 0)
    t.same(data, copy, `length ${length}`)
  }
})

t.test('masking twice restores the data; the default offset is 0', async (t) => {
  const data = randomBytes(random, 257)
  const copy = Buffer.from(data)
  applyMask(data, MASKS[0])
  t.same(data, xorMask(copy, MASKS[0], 0))
  applyMask(data, MASKS[0])
  t.same(data, copy)
})

t.test('masking a payload in pieces with running offsets equals masking it whole', async (t) => {
  const data = randomBytes(random, 1000)
  const expected = xorMask(data, MASKS[0])
  for (const cuts of [[1, 2, 3], [5, 37, 38, 500, 999], [333, 666]]) {
    const copy = Buffer.from(data)
    let start = 0
    for (const end of [...cuts, copy.length]) {
      applyMask(copy.subarray(start, end), MASKS[0], start)
      start = end
    }
    t.same(copy, expected, `cut at ${cuts.join(',')}`)
  }
})

t.test('copyMasked writes a masked copy and leaves the source alone', async (t) => {
  for (const length of [0, 3, 31, 32, 100, 5000]) {
    const source = randomBytes(random, length)
    const original = Buffer.from(source)
    for (let targetOffset = 0; targetOffset < 5; targetOffset++) {
      const target = Buffer.alloc(length + targetOffset + 2, 0xcc)
      copyMasked(source, MASKS[0], target, targetOffset)
      t.same(target.subarray(targetOffset, targetOffset + length), xorMask(original, MASKS[0]), `length ${length} at ${targetOffset}`)
      t.ok(target.subarray(0, targetOffset).every((b) => b === 0xcc) && target.subarray(targetOffset + length).every((b) => b === 0xcc), 'nothing written outside')
    }
    t.same(source, original, 'source unchanged')
  }
})

t.test('copyMasked continues the mask cycle from maskOffset', async (t) => {
  const source = randomBytes(random, 3000)
  for (const maskOffset of [0, 1, 2, 3, 5, 2 ** 33 + 2]) {
    for (const length of [7, 200, 3000]) {
      const target = Buffer.alloc(length)
      copyMasked(source.subarray(0, length), MASKS[0], target, 0, maskOffset)
      t.same(target, xorMask(source.subarray(0, length), MASKS[0], maskOffset), `maskOffset ${maskOffset}, length ${length}`)
    }
  }
})

t.test('copyMasked throws a RangeError, writing nothing, when the target has no room', async (t) => {
  const source = randomBytes(random, 300)
  for (const [targetLength, targetOffset] of [[299, 0], [300, 1], [400, 101], [400, -1], [400, 1.5], [400, NaN]]) {
    const target = Buffer.alloc(targetLength, 0xcc)
    t.throws(() => copyMasked(source, MASKS[0], target, targetOffset), RangeError, `${targetLength}-byte target at ${targetOffset}`)
    t.ok(target.every((b) => b === 0xcc), 'target untouched')
  }
})

t.test('copyMasked into the same memory as its source (overlapping either way) is still right', async (t) => {
  t.teardown(() => { setMaskKernel('auto') })
  for (const kernel of ['auto', 'js'] as const) {
    setMaskKernel(kernel)
    for (const length of [5, 100, 1000, 70_000, 140_001]) {
      for (const shift of [-3, -1, 0, 1, 3, 64]) {
        const backing = Buffer.alloc(length + 200)
        const sourceStart = 100
        const original = randomBytes(random, length)
        original.copy(backing, sourceStart)
        const source = backing.subarray(sourceStart, sourceStart + length)
        // The target is the whole backing buffer; the copy lands `shift` bytes from the source.
        copyMasked(source, MASKS[0], backing, sourceStart + shift, 2)
        t.ok(backing.subarray(sourceStart + shift, sourceStart + shift + length).equals(xorMask(original, MASKS[0], 2)), `${kernel}: ${length} B shifted by ${shift}`)
      }
    }
  }
})

t.test('randomMaskKey: 4-byte keys, refilled from the pool', async (t) => {
  const keys = new Set<string>()
  const lengths = new Set<number>()
  // More keys than one 4096-byte pool holds, to cross a refill.
  for (let i = 0; i < 2000; i++) {
    const key = randomMaskKey()
    lengths.add(key.length)
    keys.add(key.toString('hex'))
  }
  t.same([...lengths], [4])
  t.ok(keys.size > 1990, 'keys are (practically) unique')
})
