// Sec-WebSocket-Extensions parsing and serialising (RFC 6455 §9.1): fixtures, recovery after
// malformed elements, and linear time on hostile input.
import t, { type Test } from 'tap'
import { formatExtensionHeader, parseExtensionHeader, type ExtensionElement } from '../../src/protocol/extension-header.js'

type Fixture = [string, ExtensionElement[]]

const e = (name: string, params: Array<[string, string | true]> = [], error?: RegExp): ExtensionElement => {
  const element: ExtensionElement = { name, params: params.map(([n, v]) => ({ name: n, value: v })) }
  if (error !== undefined) element.error = error as unknown as string
  return element
}

/** Compares, letting an expected RegExp stand for the error text. */
function check (t: Test, input: string, expected: ExtensionElement[]): void {
  const actual = parseExtensionHeader(input)
  const shaped = actual.map((element, i) => {
    const want = expected[i]
    if (want?.error !== undefined && element.error !== undefined && (want.error as unknown as RegExp).test(element.error)) {
      return { ...element, error: want.error }
    }
    return element
  })
  t.same(shaped, expected, JSON.stringify(input))
}

t.test('well-formed headers', async (t) => {
  const fixtures: Fixture[] = [
    ['', []],
    ['   ', []],
    [',', []],
    [' , ,\t,', []],
    ['permessage-deflate', [e('permessage-deflate')]],
    ['Permessage-Deflate', [e('permessage-deflate')]],
    ['permessage-deflate; client_max_window_bits', [e('permessage-deflate', [['client_max_window_bits', true]])]],
    ['permessage-deflate;client_max_window_bits;server_max_window_bits=10',
      [e('permessage-deflate', [['client_max_window_bits', true], ['server_max_window_bits', '10']])]],
    ['permessage-deflate ; server_max_window_bits = 10 ; client_no_context_takeover',
      [e('permessage-deflate', [['server_max_window_bits', '10'], ['client_no_context_takeover', true]])]],
    ['permessage-deflate; server_max_window_bits="10"', [e('permessage-deflate', [['server_max_window_bits', '10']])]],
    ['permessage-deflate; server_max_window_bits="1\\0"', [e('permessage-deflate', [['server_max_window_bits', '10']])]],
    ['permessage-deflate; X=Y', [e('permessage-deflate', [['x', 'Y']])]],
    // Several offers, and several header lines joined by commas (RFC 9110 §5.3).
    ['permessage-deflate; client_max_window_bits=10, permessage-deflate, x-webkit-deflate-frame',
      [e('permessage-deflate', [['client_max_window_bits', '10']]), e('permessage-deflate'), e('x-webkit-deflate-frame')]],
    ['a,,b, ,c', [e('a'), e('b'), e('c')]],
    ['a; p=1; p=2', [e('a', [['p', '1'], ['p', '2']])]],
    ['foo; bar="baz,qux", permessage-deflate', [e('foo', [], /not a token/), e('permessage-deflate')]],
    ['\tpermessage-deflate\t;\tserver_no_context_takeover\t', [e('permessage-deflate', [['server_no_context_takeover', true]])]]
  ]
  for (const [input, expected] of fixtures) check(t, input, expected)
})

t.test('malformed elements are marked and do not spoil their neighbours', async (t) => {
  const fixtures: Fixture[] = [
    [';p', [e('', [], /must start with its name/)]],
    ['=x, b', [e('', [], /must start with its name/), e('b')]],
    ['a b, c', [e('a', [], /unexpected character after a/), e('c')]],
    ['a;, c', [e('a', [], /has no name/), e('c')]],
    ['a; =1, c', [e('a', [], /has no name/), e('c')]],
    ['a; p=, c', [e('a', [], /p= has no value/), e('c')]],
    ['a; p=, ', [e('a', [], /p= has no value/)]],
    ['a; p="1, c', [e('a', [], /not terminated/)]],
    ['a; p="1\\', [e('a', [], /not terminated/)]],
    ['a; p="x y", c', [e('a', [], /not a token/), e('c')]],
    ['a; p="", c', [e('a', [], /not a token/), e('c')]],
    ['a; p="\u0001", c', [e('a', [], /control character/), e('c')]],
    ['a; p="\\\u0001", c', [e('a', [], /control character/), e('c')]],
    // Recovery skips a quoted comma and an escaped quote inside it.
    ['a; p=1 x "q,\\",r" , c', [e('a', [['p', '1']], /unexpected character/), e('c')]],
    ['a; p=1=2, c', [e('a', [['p', '1']], /unexpected character/), e('c')]],
    ['a; p="1"x, c', [e('a', [['p', '1']], /unexpected character/), e('c')]],
    ['a; p=\u00e9, c', [e('a', [], /p= has no value/), e('c')]],
    ['\u00e9, c', [e('', [], /must start/), e('c')]],
    ['a\u0000, c', [e('a', [], /unexpected character/), e('c')]],
    ['a;p=1;', [e('a', [['p', '1']], /has no name/)]],
    ['a; p="x\u007f", c', [e('a', [], /control character/), e('c')]],
    ['a; p="\u00ff", c', [e('a', [], /not a token/), e('c')]]
  ]
  for (const [input, expected] of fixtures) check(t, input, expected)
})

t.test('formatExtensionHeader', async (t) => {
  t.equal(formatExtensionHeader([]), '')
  t.equal(formatExtensionHeader([e('permessage-deflate')]), 'permessage-deflate')
  t.equal(formatExtensionHeader([e('permessage-deflate', [['server_no_context_takeover', true], ['client_max_window_bits', '10']]), e('x')]),
    'permessage-deflate; server_no_context_takeover; client_max_window_bits=10, x')
  t.throws(() => formatExtensionHeader([e('a b')]), TypeError)
  t.throws(() => formatExtensionHeader([e('a', [['p q', true]])]), TypeError)
  t.throws(() => formatExtensionHeader([e('a', [['p', 'x\r\ny']])]), TypeError)
  t.throws(() => formatExtensionHeader([{ name: 'a', params: [], error: 'bad' }]), TypeError)
  // Round trip.
  const header = 'permessage-deflate; client_max_window_bits=12; server_no_context_takeover, permessage-deflate'
  t.equal(formatExtensionHeader(parseExtensionHeader(header)), header)
})

t.test('hostile sizes parse in linear time', async (t) => {
  const KiB100 = 100 * 1024
  const inputs: Array<[string, string]> = [
    ['separators', ' ,'.repeat(KiB100 / 2)],
    ['semicolons', `a${';'.repeat(KiB100)}`],
    ['unterminated quote', `a; p="${'x'.repeat(KiB100)}`],
    ['escapes', `a; p="${'\\x'.repeat(KiB100 / 2)}"`],
    ['quotes and commas', `a b "${',"'.repeat(KiB100 / 2)}`],
    ['many params', `a${'; p=1'.repeat(KiB100 / 6)}`],
    ['many elements', 'a,'.repeat(KiB100 / 2)],
    ['many bad elements', 'a b,'.repeat(KiB100 / 4)],
    ['spaces', ' '.repeat(KiB100)]
  ]
  for (const [name, input] of inputs) {
    parseExtensionHeader(input) // warm-up
    const start = process.hrtime.bigint()
    const rounds = 5
    for (let i = 0; i < rounds; i++) parseExtensionHeader(input)
    const micros = Number(process.hrtime.bigint() - start) / 1e3 / rounds
    t.comment(`${name}: ${input.length} chars in ${micros.toFixed(0)} µs`)
    // Quadratic behaviour on 100 KiB would take seconds; linear takes well under a few ms.
    // The bound is wide because the machine is shared.
    t.ok(micros < 50_000, `${name}: ${micros.toFixed(0)} µs`)
  }
  // Separators alone must stay in the microseconds.
  const separators = ' ,'.repeat(KiB100 / 2)
  const start = process.hrtime.bigint()
  for (let i = 0; i < 20; i++) t.same(parseExtensionHeader(separators), [])
  const micros = Number(process.hrtime.bigint() - start) / 1e3 / 20
  t.ok(micros < 5_000, `100 KiB of separators: ${micros.toFixed(0)} µs`)
})
