/**
 * Autobahn testsuite case group 6, cases 6.5-6.23: the UTF-8 decoder test sequences of
 * Markus Kuhn's UTF-8-test.txt, each sent as one text message to the echo app. Valid UTF-8 is
 * echoed exactly; anything else fails the connection with 1007 (RFC 6455 §8.1), nothing echoed.
 * The case numbers follow the suite's generator (categories numbered from 6.5, sequences from 1).
 *
 * Beyond the suite ("fail fast" tests): every invalid sequence that is invalid before its end
 * is also sent as a non-final fragment, and the close 1007 must come without the message ever
 * being finished.
 */
import { isUtf8 } from 'node:buffer'
import t from 'tap'
import { FuzzPeer, expectText, startEchoServer } from '../helpers/conformance.js'
import { OP, clientFrame, hex } from '../helpers/frames.js'
import { failFastLength } from '../helpers/utf8-reference.js'

const port = await startEchoServer(t)

type Sequence = [valid: boolean, bytes: Buffer]

const bytesOf = (...values: number[]): Buffer => Buffer.from(values)
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

/** The suite's createUtf8TestSequences(), in its order. */
function utf8TestSequences (): Array<[string, Sequence[]]> {
  const categories: Array<[string, Sequence[]]> = []
  const kosme = hex('cebae1bdb9cf83cebcceb5')

  categories.push(['Some valid UTF-8 sequences', [
    [true, Buffer.concat([Buffer.from('hello'), hex('24'), Buffer.from('world')])],
    [true, Buffer.concat([Buffer.from('hello'), hex('c2a2'), Buffer.from('world')])],
    [true, Buffer.concat([Buffer.from('hello'), hex('e282ac'), Buffer.from('world')])],
    [true, Buffer.concat([Buffer.from('hello'), hex('f0a4ada2'), Buffer.from('world')])],
    [true, kosme]
  ]])

  // Valid means valid and complete (the suite: no error and everything consumed).
  categories.push(['All prefixes of a valid UTF-8 string that contains multi-byte code points',
    range(1, kosme.length + 1).map((n): Sequence => [isUtf8(kosme.subarray(0, n)), kosme.subarray(0, n)])])

  categories.push(['First possible sequence of a certain length', [
    [true, hex('00')], [true, hex('c280')], [true, hex('e0a080')], [true, hex('f0908080')]
  ]])
  categories.push(['First possible sequence length 5/6 (invalid codepoints)', [
    [false, hex('f888808080')], [false, hex('fc8480808080')]
  ]])
  categories.push(['Last possible sequence of a certain length', [
    [true, hex('7f')], [true, hex('dfbf')], [true, hex('efbfbf')], [true, hex('f48fbfbf')]
  ]])
  categories.push(['Last possible sequence length 4/5/6 (invalid codepoints)', [
    [false, hex('f7bfbfbf')], [false, hex('fbbfbfbfbf')], [false, hex('fdbfbfbfbfbf')]
  ]])
  categories.push(['Other boundary conditions', [
    [true, hex('ed9fbf')], [true, hex('ee8080')], [true, hex('efbfbd')], [true, hex('f48fbfbf')], [false, hex('f4908080')]
  ]])
  categories.push(['Unexpected continuation bytes', [
    [false, hex('80')], [false, hex('bf')], [false, hex('80bf')], [false, hex('80bf80')], [false, hex('80bf80bf')],
    [false, hex('80bf80bf80')], [false, hex('80bf80bf80bf')], [false, bytesOf(...range(0x80, 0xbf))]
  ]])
  categories.push(['Lonely start characters',
    [[0xc0, 0xdf], [0xe0, 0xef], [0xf0, 0xf7], [0xf8, 0xfb], [0xfc, 0xfd]].map(([from, to]): Sequence =>
      [false, bytesOf(...range(from, to).flatMap((b) => [b, 0x20]))])])
  const missing = ['c0', 'e080', 'f08080', 'f8808080', 'fc80808080', 'df', 'efbf', 'f7bfbf', 'fbbfbfbf', 'fdbfbfbfbf'].map(hex)
  categories.push(['Sequences with last continuation byte missing', missing.map((b): Sequence => [false, b])])
  categories.push(['Concatenation of incomplete sequences', [[false, Buffer.concat(missing)]]])
  categories.push(['Impossible bytes', [[false, hex('fe')], [false, hex('ff')], [false, hex('fefeffff')]]])
  categories.push(['Examples of an overlong ASCII character',
    ['c0af', 'e080af', 'f08080af', 'f8808080af', 'fc80808080af'].map((h): Sequence => [false, hex(h)])])
  categories.push(['Maximum overlong sequences',
    ['c1bf', 'e09fbf', 'f08fbfbf', 'f887bfbfbf', 'fc83bfbfbfbf'].map((h): Sequence => [false, hex(h)])])
  categories.push(['Overlong representation of the NUL character',
    ['c080', 'e08080', 'f0808080', 'f880808080', 'fc8080808080'].map((h): Sequence => [false, hex(h)])])
  categories.push(['Single UTF-16 surrogates',
    ['eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf'].map((h): Sequence => [false, hex(h)])])
  categories.push(['Paired UTF-16 surrogates',
    ['eda080edb080', 'eda080edbfbf', 'edadbfedb080', 'edadbfedbfbf', 'edae80edb080', 'edae80edbfbf', 'edafbfedb080', 'edafbfedbfbf']
      .map((h): Sequence => [false, hex(h)])])
  const nonCharacters: Sequence[] = [[true, hex('efbfbe')], [true, hex('efbfbf')]]
  for (const z1 of [0xf0, 0xf1, 0xf2, 0xf3, 0xf4]) {
    for (const z2 of [0x8f, 0x9f, 0xaf, 0xbf]) {
      if (z1 === 0xf4 && z2 !== 0x8f) continue // above U+10FFFF
      for (const z3 of [0xbe, 0xbf]) {
        if (z1 === 0xf0 && z2 === 0x8f) continue // overlong
        nonCharacters.push([true, bytesOf(z1, z2, 0xbf, z3)])
      }
    }
  }
  categories.push(['Non-character code points (valid UTF-8)', nonCharacters])
  categories.push(['Unicode specials (i.e. replacement char)',
    ['efbfb9', 'efbfba', 'efbfbb', 'efbfbc', 'efbfbd', 'efbfbe', 'efbfbf'].map((h): Sequence => [true, hex(h)])])
  return categories
}

const CATEGORIES = utf8TestSequences()

t.test('6.x the reproduced sequence table has the suite\'s shape', async (t) => {
  t.same(CATEGORIES.map(([, s]) => s.length), [5, 11, 4, 2, 4, 3, 5, 8, 5, 10, 1, 3, 5, 5, 5, 7, 8, 34, 7])
  for (const [name, sequences] of CATEGORIES) {
    for (const [valid, bytes] of sequences) t.equal(isUtf8(bytes), valid, `${name}: ${bytes.toString('hex')} validity agrees with buffer.isUtf8`)
  }
})

for (const [offset, [category, sequences]] of CATEGORIES.entries()) {
  for (const [index, [valid, bytes]] of sequences.entries()) {
    const id = `6.${offset + 5}.${index + 1}`
    const shown = bytes.length > 24 ? `${bytes.subarray(0, 24).toString('hex')}... (${bytes.length} bytes)` : bytes.toString('hex')
    t.test(`${id} ${category}: 0x${shown} ${valid ? 'is echoed' : 'fails with 1007'}`, async (t) => {
      const peer = await FuzzPeer.open(t, port)
      peer.send(clientFrame(OP.TEXT, bytes))
      if (valid) {
        await peer.expectFrames([expectText(bytes)])
        await peer.closeNormally()
      } else {
        await peer.expectFailure(1007)
      }
    })
  }
}

for (const [offset, [category, sequences]] of CATEGORIES.entries()) {
  for (const [index, [valid, bytes]] of sequences.entries()) {
    if (valid || failFastLength(bytes) === -1) continue
    const id = `6.${offset + 5}.${index + 1}`
    t.test(`${id} fail fast: ${category} as a non-final fragment fails with 1007 before the message ends`, async (t) => {
      const peer = await FuzzPeer.open(t, port)
      // A valid start, then the sequence; the final fragment is never sent.
      peer.send(clientFrame(OP.TEXT, 'κόσμε', { fin: false }), clientFrame(OP.CONT, bytes, { fin: false }))
      await peer.expectFailure(1007)
    })
  }
}
