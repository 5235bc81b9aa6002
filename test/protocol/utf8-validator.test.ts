// Utf8Validator against Node's buffer.isUtf8: the same verdict on every input, whole and at
// every split point, and fail-fast: a write returns false exactly when the bytes seen so far
// can no longer become valid UTF-8 (checked against utf8-reference.ts).
import t from 'tap'
import { isUtf8 } from 'node:buffer'
import { isDeepStrictEqual } from 'node:util'
import { Utf8Validator, isValidUtf8 } from '../../src/protocol/index.js'
import { hex } from '../helpers/frames.js'
import { isViablePrefix } from '../helpers/utf8-reference.js'
import { randomBytes, seededRandom } from '../helpers/seeded-random.js'

const corpus: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['ASCII', Buffer.from('hello, world')],
  ['all ASCII bytes', Buffer.from(Array.from({ length: 128 }, (_, i) => i))],
  ['2-byte', Buffer.from('é ß ñ Ω')],
  ['3-byte', Buffer.from('€ 日本語 ﻿')],
  ['4-byte', Buffer.from('𝄞 😀 🏳️‍🌈')],
  ['mixed', Buffer.from('aé€𝄞aé€𝄞 κόσμε')],
  ['boundaries: U+007F U+0080 U+07FF U+0800', Buffer.from('\u007f\u0080\u07ff\u0800')],
  ['boundaries: U+D7FF U+E000 U+FFFD U+FFFF', Buffer.from('\ud7ff\ue000\ufffd\uffff')],
  ['boundaries: U+10000 U+10FFFF', Buffer.from('\u{10000}\u{10ffff}')],
  ['max code point bytes', hex('f4 8f bf bf')],
  ['overlong C0 80', hex('c0 80')],
  ['overlong C1 BF', hex('c1 bf')],
  ['overlong E0 80 80', hex('e0 80 80')],
  ['overlong E0 9F BF', hex('e0 9f bf')],
  ['overlong F0 80 80 80', hex('f0 80 80 80')],
  ['overlong F0 8F BF BF', hex('f0 8f bf bf')],
  ['surrogate ED A0 80', hex('ed a0 80')],
  ['surrogate ED BF BF', hex('ed bf bf')],
  ['surrogate pair as CESU-8', hex('ed a0 bd ed b8 80')],
  ['above U+10FFFF: F4 90 80 80', hex('f4 90 80 80')],
  ['F5 80 80 80', hex('f5 80 80 80')],
  ['F8 88 80 80 80', hex('f8 88 80 80 80')],
  ['FC 84 80 80 80 80', hex('fc 84 80 80 80 80')],
  ['FE', hex('fe')],
  ['FF', hex('ff')],
  ['lone continuation 80', hex('80')],
  ['lone continuation BF', hex('bf')],
  ['continuations after ASCII', hex('61 80 bf 62')],
  ['extra continuation after a 2-byte', hex('c3 a9 80')],
  ['extra continuation after a 4-byte', hex('f0 9d 84 9e 80')],
  ['truncated 2-byte', hex('c3')],
  ['truncated 3-byte', hex('e2 82')],
  ['truncated 4-byte', hex('f0 9d 84')],
  ['truncated then ASCII', hex('e2 82 41')],
  ['truncated 4-byte then a new lead', hex('f0 9d c3 a9')],
  ['valid then truncated', Buffer.concat([Buffer.from('κόσμε'), hex('e2')])],
  ['ED 9F BF (last before surrogates)', hex('ed 9f bf')],
  ['EE 80 80 (first after surrogates)', hex('ee 80 80')],
  ['F1 80 80 80', hex('f1 80 80 80')],
  ['F3 BF BF BF', hex('f3 bf bf bf')],
  ['long valid text', Buffer.from('The quick brown fox — 日本語 — 😀 '.repeat(40))],
  ['long valid text then FF', Buffer.concat([Buffer.from('日本語 '.repeat(50)), hex('ff')])],
  ['NUL bytes', hex('00 00 61 00')]
]

function validate (pieces: Uint8Array[]): { results: boolean[], incomplete: boolean } {
  const validator = new Utf8Validator()
  const results: boolean[] = []
  for (const piece of pieces) {
    const ok = validator.write(piece)
    results.push(ok)
    if (!ok) break
  }
  return { results, incomplete: validator.incomplete }
}

/** Valid overall iff every write succeeds and no sequence is left open. */
function verdict (pieces: Uint8Array[]): boolean {
  const { results, incomplete } = validate(pieces)
  return results.every(Boolean) && results.length === pieces.length && !incomplete
}

t.test('the corpus mixes valid and invalid inputs', async (t) => {
  const valid = corpus.filter(([, data]) => isUtf8(data)).length
  t.ok(valid >= 10 && corpus.length - valid >= 20, `${valid} valid, ${corpus.length - valid} invalid`)
})

t.test('whole input: same verdict as isUtf8, and isValidUtf8 agrees', async (t) => {
  for (const [name, data] of corpus) {
    t.equal(verdict([data]), isUtf8(data), name)
    t.equal(isValidUtf8(data), isUtf8(data), `isValidUtf8: ${name}`)
  }
})

t.test('every split point: same verdict, and each write fails exactly when no completion is possible', async (t) => {
  for (const [name, data] of corpus) {
    const mismatches: string[] = []
    for (let split = 0; split <= data.length; split++) {
      const first = data.subarray(0, split)
      const second = data.subarray(split)
      const validator = new Utf8Validator()
      const firstOk = validator.write(first)
      if (firstOk !== isViablePrefix(first)) mismatches.push(`split ${split}: first write ${String(firstOk)}`)
      if (!firstOk) continue
      const secondOk = validator.write(second)
      if (secondOk !== isViablePrefix(data)) mismatches.push(`split ${split}: second write ${String(secondOk)}`)
      if (secondOk && (!validator.incomplete) !== isUtf8(data)) mismatches.push(`split ${split}: incomplete ${String(validator.incomplete)}`)
    }
    t.same(mismatches, [], name)
  }
})

t.test('byte by byte: the first failing write is at the first impossible byte', async (t) => {
  for (const [name, data] of corpus) {
    const validator = new Utf8Validator()
    let failedAt = -1
    for (let i = 0; i < data.length; i++) {
      if (!validator.write(data.subarray(i, i + 1))) { failedAt = i; break }
    }
    let expected = -1
    for (let i = 1; i <= data.length; i++) {
      if (!isViablePrefix(data.subarray(0, i))) { expected = i - 1; break }
    }
    t.equal(failedAt, expected, name)
    if (failedAt === -1) t.equal(!validator.incomplete, isUtf8(data), `${name}: incomplete at the end`)
  }
})

t.test('three-way splits of the multi-byte corpus entries', async (t) => {
  let checked = 0
  const failures: string[] = []
  for (const [name, data] of corpus) {
    if (data.length > 12) continue
    for (let a = 0; a <= data.length; a++) {
      for (let b = a; b <= data.length; b++) {
        checked++
        if (verdict([data.subarray(0, a), data.subarray(a, b), data.subarray(b)]) !== isUtf8(data)) failures.push(`${name} @${a},${b}`)
      }
    }
  }
  t.same(failures, [])
  t.ok(checked > 500, `${checked} three-way splits`)
})

t.test('reset() forgets an open sequence', async (t) => {
  const validator = new Utf8Validator()
  t.equal(validator.write(hex('f0 9d')), true)
  t.equal(validator.incomplete, true)
  validator.reset()
  t.equal(validator.incomplete, false)
  t.equal(validator.write(hex('41')), true, 'ASCII is fine after reset (it would not be mid-sequence)')
  validator.write(hex('e0'))
  validator.reset()
  t.equal(validator.write(hex('80')), false, 'a continuation byte cannot start a sequence after reset')
  const narrowed = new Utf8Validator()
  narrowed.write(hex('ed'))
  narrowed.reset()
  t.equal(narrowed.write(hex('c3 a9')), true, 'the narrowed range from ED is forgotten too')
})

t.test('empty writes change nothing', async (t) => {
  const validator = new Utf8Validator()
  t.equal(validator.write(new Uint8Array(0)), true)
  t.equal(validator.write(hex('e2')), true)
  t.equal(validator.write(new Uint8Array(0)), true)
  t.equal(validator.incomplete, true)
  t.equal(validator.write(hex('82 ac')), true)
  t.equal(validator.incomplete, false)
})

t.test('random byte strings agree with isUtf8 in random chunkings (seeded)', async (t) => {
  const random = seededRandom(3629)
  const alphabet = [
    hex('41'), hex('7f'), hex('c2 80'), hex('df bf'), hex('e0 a0 80'), hex('ed 9f bf'), hex('ef bf bf'),
    hex('f0 90 80 80'), hex('f4 8f bf bf'), hex('80'), hex('bf'), hex('c0'), hex('e0'), hex('ed'), hex('f0'), hex('f4'),
    hex('f5'), hex('ff'), hex('a0'), hex('90'), hex('8f')
  ]
  let valid = 0
  let cases = 0
  const failures: string[] = []
  for (let i = 0; i < 6000; i++) {
    // Three flavours: uniformly random bytes; pieces of well-formed and broken sequences; and
    // valid text with one random byte changed.
    let data: Buffer
    const flavour = i % 3
    if (flavour === 0) {
      data = randomBytes(random, Math.floor(random() * 12))
    } else if (flavour === 1) {
      const parts: Buffer[] = []
      const count = Math.floor(random() * 10)
      for (let p = 0; p < count; p++) parts.push(alphabet[Math.floor(random() * alphabet.length)])
      data = Buffer.concat(parts)
    } else {
      data = Buffer.from('aé€𝄞 κόσμε 日本 😀'.slice(0, Math.floor(random() * 16)))
      if (data.length > 0 && random() < 0.8) data[Math.floor(random() * data.length)] = Math.floor(random() * 256)
    }
    const expected = isUtf8(data)
    if (expected) valid++
    // Whole, and cut at random points.
    const cuts = [0, ...Array.from({ length: Math.floor(random() * 4) }, () => Math.floor(random() * (data.length + 1)))].sort((a, b) => a - b)
    const pieces = cuts.map((cut, k) => data.subarray(cut, cuts[k + 1] ?? data.length))
    pieces.unshift(data.subarray(0, 0))
    for (const candidate of [[data], pieces]) {
      cases++
      if (verdict(candidate) !== expected) failures.push(data.toString('hex') + ' cut ' + cuts.join(','))
      // Fail-fast: each write returns whether the bytes so far can still become valid.
      const { results } = validate(candidate)
      let seen = 0
      const viable = results.map((_, k) => { seen += candidate[k].length; return isViablePrefix(data.subarray(0, seen)) })
      if (!isDeepStrictEqual(results, viable)) failures.push(`${data.toString('hex')} cut ${cuts.join(',')}: writes ${results.join()} viable ${viable.join()}`)
    }
  }
  t.same(failures.slice(0, 10), [], `${cases} cases agree with isUtf8`)
  t.ok(valid > 1000 && valid < 5000, `a mix of valid (${valid}) and invalid inputs`)
})

t.test('large inputs: a long valid run with the fault at various distances from a cut', async (t) => {
  const base = Buffer.from('日本語テキスト😀 '.repeat(500))
  t.equal(verdict([base]), true)
  for (const cut of [1, 2, 3, 100, base.length - 3, base.length - 1]) {
    t.equal(verdict([base.subarray(0, cut), base.subarray(cut)]), true, `valid, cut at ${cut}`)
  }
  const broken = Buffer.from(base)
  broken[5000] = 0xff
  for (const cut of [4998, 4999, 5000, 5001, 5002]) {
    t.equal(verdict([broken.subarray(0, cut), broken.subarray(cut)]), false, `0xFF at 5000, cut at ${cut}`)
  }
})
