// MessageAssembler on its own: fragmentation rules, the cumulative size limit, streaming UTF-8
// checks, and joining fragments (single view, exact-size buffer, or grown buffer).
import t from 'tap'
import { MessageAssembler, WebSocketProtocolError, ProtocolErrorCode as E } from '../../src/protocol/index.js'
import { OP } from '../helpers/frames.js'

/** Feeds frames given as [opcode, fin, pieces]; returns the messages and the first error. */
function assemble (maxMessageSize: number, frames: Array<[number, boolean, string[]]>): { messages: Array<{ data: string, isBinary: boolean }>, error: string | null } {
  const assembler = new MessageAssembler(maxMessageSize)
  const messages: Array<{ data: string, isBinary: boolean }> = []
  for (const [opcode, fin, pieces] of frames) {
    const length = pieces.reduce((sum, p) => sum + Buffer.byteLength(p, 'latin1'), 0)
    const started = assembler.frameStart(opcode, fin, false, length)
    if (started !== null) return { messages, error: `${started.code} ${started.closeCode}` }
    for (const piece of pieces) {
      const error = assembler.payload(Buffer.from(piece, 'latin1'))
      if (error !== null) return { messages, error: `${error.code} ${error.closeCode}` }
    }
    const result = assembler.frameEnd()
    if (result instanceof WebSocketProtocolError) return { messages, error: `${result.code} ${result.closeCode}` }
    if (result !== null) messages.push({ data: result.toString('latin1'), isBinary: assembler.completedBinary })
  }
  return { messages, error: null }
}

t.test('table: frames in, messages or an error out', async (t) => {
  const cases: Array<[string, number, Array<[number, boolean, string[]]>, Array<{ data: string, isBinary: boolean }>, string | null]> = [
    ['single text', 100, [[OP.TEXT, true, ['hello']]], [{ data: 'hello', isBinary: false }], null],
    ['single binary in pieces', 100, [[OP.BINARY, true, ['he', 'l', 'lo']]], [{ data: 'hello', isBinary: true }], null],
    ['empty text', 100, [[OP.TEXT, true, []]], [{ data: '', isBinary: false }], null],
    ['fragments', 100, [[OP.TEXT, false, ['ab']], [OP.CONT, false, ['c', 'd']], [OP.CONT, true, ['e']]], [{ data: 'abcde', isBinary: false }], null],
    ['empty fragments', 100, [[OP.BINARY, false, []], [OP.CONT, false, []], [OP.CONT, true, []]], [{ data: '', isBinary: true }], null],
    ['empty first, whole final', 100, [[OP.BINARY, false, []], [OP.CONT, true, ['xyz']]], [{ data: 'xyz', isBinary: true }], null],
    ['two messages', 100, [[OP.TEXT, true, ['a']], [OP.BINARY, false, ['b']], [OP.CONT, true, ['c']]], [{ data: 'a', isBinary: false }, { data: 'bc', isBinary: true }], null],
    ['continuation first', 100, [[OP.CONT, true, ['a']]], [], `${E.InvalidOpcode} 1002`],
    ['continuation after a message', 100, [[OP.TEXT, true, ['a']], [OP.CONT, true, ['b']]], [{ data: 'a', isBinary: false }], `${E.InvalidOpcode} 1002`],
    ['text inside a message', 100, [[OP.TEXT, false, ['a']], [OP.TEXT, true, ['b']]], [], `${E.InvalidOpcode} 1002`],
    ['binary inside a message', 100, [[OP.TEXT, false, ['a']], [OP.BINARY, true, ['b']]], [], `${E.InvalidOpcode} 1002`],
    ['too big at once', 4, [[OP.BINARY, true, ['hello']]], [], `${E.MessageTooBig} 1009`],
    ['too big across fragments', 4, [[OP.BINARY, false, ['he']], [OP.CONT, false, ['ll']], [OP.CONT, true, ['o']]], [], `${E.MessageTooBig} 1009`],
    ['exactly the limit across fragments', 5, [[OP.BINARY, false, ['he']], [OP.CONT, false, ['ll']], [OP.CONT, true, ['o']]], [{ data: 'hello', isBinary: true }], null],
    ['the limit resets per message', 5, [[OP.BINARY, true, ['hello']], [OP.TEXT, true, ['world']]], [{ data: 'hello', isBinary: true }, { data: 'world', isBinary: false }], null],
    ['invalid UTF-8', 100, [[OP.TEXT, true, ['a\xff']]], [], `${E.InvalidUtf8} 1007`],
    ['UTF-8 split across fragments', 100, [[OP.TEXT, false, ['\xe2']], [OP.CONT, false, ['\x82']], [OP.CONT, true, ['\xac']]], [{ data: '\xe2\x82\xac', isBinary: false }], null],
    ['UTF-8 left open at the end', 100, [[OP.TEXT, false, ['\xe2']], [OP.CONT, true, ['\x82']]], [], `${E.InvalidUtf8} 1007`],
    ['binary is not checked', 100, [[OP.BINARY, true, ['\xff\xe2']]], [{ data: '\xff\xe2', isBinary: true }], null],
    ['a new text message resets the UTF-8 state', 100, [[OP.BINARY, true, ['\xe2']], [OP.TEXT, true, ['a']]], [{ data: '\xe2', isBinary: true }, { data: 'a', isBinary: false }], null]
  ]
  for (const [name, max, frames, messages, error] of cases) {
    t.same(assemble(max, frames), { messages, error }, name)
  }
})

t.test('inMessage is true only between the first and the final fragment', async (t) => {
  const assembler = new MessageAssembler(100)
  t.equal(assembler.inMessage, false)
  assembler.frameStart(OP.TEXT, false, false, 1)
  t.equal(assembler.inMessage, true)
  assembler.payload(Buffer.from('a'))
  assembler.frameEnd()
  t.equal(assembler.inMessage, true)
  assembler.frameStart(OP.CONT, true, false, 0)
  const result = assembler.frameEnd() as Buffer
  t.equal(result.toString(), 'a')
  t.equal(assembler.inMessage, false)
})

t.test('storage: a message in one piece is that piece, no copy', async (t) => {
  const assembler = new MessageAssembler(100)
  const piece = Buffer.from('whole')
  assembler.frameStart(OP.BINARY, true, false, 5)
  assembler.payload(piece)
  const result = assembler.frameEnd() as Buffer
  t.equal(result, piece, 'the very same buffer')
})

t.test('storage: pieces of a final frame are copied into a buffer of the exact size', async (t) => {
  const assembler = new MessageAssembler(100)
  assembler.frameStart(OP.BINARY, true, false, 6)
  const a = Buffer.from('abc')
  assembler.payload(a)
  a.fill(0) // the assembler copied
  assembler.payload(Buffer.from('def'))
  const result = assembler.frameEnd() as Buffer
  t.equal(result.toString(), 'abcdef')
  t.equal(result.length, 6)
})

t.test('storage: many fragments grow the buffer and the result has the exact length', async (t) => {
  for (const max of [Infinity, 1000, 10]) {
    const assembler = new MessageAssembler(max)
    let expected = ''
    assembler.frameStart(OP.BINARY, false, false, 4)
    assembler.payload(Buffer.from('0123'))
    expected += '0123'
    assembler.frameEnd()
    for (const piece of ['45', '6', '7', '8']) {
      assembler.frameStart(OP.CONT, false, false, piece.length)
      assembler.payload(Buffer.from(piece))
      assembler.frameEnd()
      expected += piece
    }
    assembler.frameStart(OP.CONT, true, false, 1)
    assembler.payload(Buffer.from('9'))
    expected += '9'
    const result = assembler.frameEnd() as Buffer
    t.equal(result.toString(), expected, `maxMessageSize ${max}`)
    t.equal(result.length, 10)
  }
})

t.test('storage: the buffer never grows past what the limit allows for non-final fragments', async (t) => {
  // A 3-byte first fragment under a 4-byte limit: doubling would ask for 6, capped at 4.
  const assembler = new MessageAssembler(4)
  assembler.frameStart(OP.BINARY, false, false, 3)
  assembler.payload(Buffer.from('abc'))
  assembler.frameEnd()
  assembler.frameStart(OP.CONT, false, false, 1)
  assembler.payload(Buffer.from('d'))
  assembler.frameEnd()
  assembler.frameStart(OP.CONT, true, false, 0)
  const result = assembler.frameEnd() as Buffer
  t.equal(result.toString(), 'abcd')
})

t.test('a message after a completed one starts empty', async (t) => {
  const assembler = new MessageAssembler(100)
  assembler.frameStart(OP.TEXT, false, false, 2)
  assembler.payload(Buffer.from('ab'))
  assembler.frameEnd()
  assembler.frameStart(OP.CONT, true, false, 2)
  assembler.payload(Buffer.from('cd'))
  t.equal((assembler.frameEnd() as Buffer).toString(), 'abcd')
  assembler.frameStart(OP.TEXT, true, false, 0)
  t.equal((assembler.frameEnd() as Buffer).length, 0, 'no leftovers from the previous message')
  assembler.frameStart(OP.BINARY, true, false, 1)
  assembler.payload(Buffer.from('z'))
  t.same(assembler.frameEnd(), Buffer.from('z'))
  t.equal(assembler.completedBinary, true)
  t.equal(assembler.completedCompressed, false)
})

t.test('a compressed message: its bytes are not text yet, so UTF-8 is left to the inflater; the flag is reported', async (t) => {
  const assembler = new MessageAssembler(100)
  assembler.frameStart(OP.TEXT, false, true, 2)
  t.equal(assembler.payload(Buffer.from([0xff, 0xfe])), null, 'compressed bytes are not checked as UTF-8')
  assembler.frameEnd()
  assembler.frameStart(OP.CONT, true, false, 1)
  assembler.payload(Buffer.from([0xe2]))
  const result = assembler.frameEnd()
  t.same(result, Buffer.from([0xff, 0xfe, 0xe2]), 'no "incomplete UTF-8" at the end either')
  t.equal(assembler.completedCompressed, true)
  t.equal(assembler.completedBinary, false)
  assembler.frameStart(OP.TEXT, true, false, 1)
  t.match(assembler.payload(Buffer.from([0xff])), { code: E.InvalidUtf8 }, 'the next, uncompressed, text message is checked again')
})
