// applyMask and copyMasked agree with a naive per-byte XOR for every length, mask offset and
// alignment (the word loop runs over the 4-byte-aligned middle of the buffer).
import t from 'tap'
import { applyMask, copyMasked, randomMaskKey } from '../../src/protocol/index.js'
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
