// FrameParser on its own, with a recording FrameSink: the calls it makes for each frame in
// every chunking, extension RSV bits, stopping from a callback, and what it buffers.
import t, { type Test } from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { FrameParser, type FrameParserOptions, type FrameSink, type WebSocketProtocolError, ProtocolErrorCode as E } from '../../src/protocol/index.js'
import { OP, clientFrame, frameHeader, serverFrame } from '../helpers/frames.js'
import { chunkings } from '../helpers/chunkings.js'

type Call = string

/**
 * A sink that records calls; data frame payload pieces are joined per frame. A hook may stop
 * the parser; its return value (default false) is what the sink method returns: true yields.
 */
function sink (hooks: Partial<Record<keyof FrameSink, (parser: FrameParser) => boolean | undefined | void>> = {}): { sink: FrameSink, calls: Call[], pieces: Buffer[], bind: (p: FrameParser) => void } {
  const calls: Call[] = []
  const pieces: Buffer[] = []
  let parser: FrameParser | undefined
  let payload: Buffer[] = []
  let fin = false
  const s: FrameSink = {
    onDataFrameStart (opcode, frameFin, rsv1, length) {
      fin = frameFin
      calls.push(`start op=${opcode} fin=${frameFin} rsv1=${rsv1} len=${length}`)
      payload = []
      return hooks.onDataFrameStart?.(parser!) === true
    },
    onDataPayload (piece) {
      if (piece.length === 0) calls.push('EMPTY PIECE')
      pieces.push(piece)
      payload.push(Buffer.from(piece))
      return hooks.onDataPayload?.(parser!) === true
    },
    onDataFrameEnd () {
      calls.push(`end fin=${fin} payload=${Buffer.concat(payload).toString('hex')}`)
      return hooks.onDataFrameEnd?.(parser!) === true
    },
    onControlFrame (opcode, payload) {
      calls.push(`control op=${opcode} payload=${payload.toString('hex')}`)
      return hooks.onControlFrame?.(parser!) === true
    },
    onFrameError (error: WebSocketProtocolError) {
      calls.push(`error ${error.code} ${error.closeCode}`)
    }
  }
  return { sink: s, calls, pieces, bind: (p) => { parser = p } }
}

/** Pushes a chunk and parses until the parser needs more input. */
function feed (parser: FrameParser, chunk: Buffer): void {
  parser.push(chunk)
  while (parser.parse()) { /* each yield is one event; go on */ }
}

function parseAll (input: Buffer, options: FrameParserOptions): { results: Call[][], names: string[] } {
  const results: Call[][] = []
  const names: string[] = []
  for (const chunking of chunkings(input)) {
    const { sink: s, calls } = sink()
    const parser = new FrameParser(s, options)
    for (const chunk of chunking.chunks) feed(parser, chunk)
    results.push(calls)
    names.push(chunking.name)
  }
  return { results, names }
}

function check (t: Test, name: string, input: Buffer, options: FrameParserOptions, expected: Call[]): void {
  const { results, names } = parseAll(input, options)
  t.same(results[0], expected, name)
  const disagreeing = names.filter((_, i) => !isDeepStrictEqual(results[i], results[0]))
  t.same(disagreeing, [], `${name}: all ${names.length} chunkings agree`)
}

const server: FrameParserOptions = { role: 'server' }
const client: FrameParserOptions = { role: 'client' }

t.test('frame by frame, in every chunking', async (t) => {
  check(t, 'masked text', clientFrame(OP.TEXT, 'abc'), server, ['start op=1 fin=true rsv1=false len=3', 'end fin=true payload=616263'])
  check(t, 'empty binary', clientFrame(OP.BINARY), server, ['start op=2 fin=true rsv1=false len=0', 'end fin=true payload='])
  check(t, 'non-final text', clientFrame(OP.TEXT, 'a', { fin: false }), server, ['start op=1 fin=false rsv1=false len=1', 'end fin=false payload=61'])
  check(t, 'continuation (the parser leaves message rules to the sink)', clientFrame(OP.CONT, 'z'), server, ['start op=0 fin=true rsv1=false len=1', 'end fin=true payload=7a'])
  check(t, 'ping', clientFrame(OP.PING, 'hi'), server, ['control op=9 payload=6869'])
  check(t, 'empty close', clientFrame(OP.CLOSE), server, ['control op=8 payload='])
  check(t, '16-bit length', clientFrame(OP.BINARY, Buffer.alloc(300, 0xab)), server, ['start op=2 fin=true rsv1=false len=300', `end fin=true payload=${'ab'.repeat(300)}`])
  check(t, 'unmasked, client role', serverFrame(OP.TEXT, 'abc'), client, ['start op=1 fin=true rsv1=false len=3', 'end fin=true payload=616263'])
  check(t, 'unmasked ping, client role', serverFrame(OP.PING, 'x'), client, ['control op=9 payload=78'])
  check(t, 'empty unmasked data frame, client role', serverFrame(OP.TEXT), client, ['start op=1 fin=true rsv1=false len=0', 'end fin=true payload='])
  check(t, 'several frames', Buffer.concat([clientFrame(OP.TEXT, 'a', { fin: false }), clientFrame(OP.PONG), clientFrame(OP.CONT, 'b')]), server, [
    'start op=1 fin=false rsv1=false len=1', 'end fin=false payload=61', 'control op=10 payload=', 'start op=0 fin=true rsv1=false len=1', 'end fin=true payload=62'
  ])
})

t.test('framing errors and their stable codes', async (t) => {
  const cases: Array<[string, Buffer, FrameParserOptions, string]> = [
    ['rsv2', clientFrame(OP.TEXT, 'a', { rsv2: true }), server, E.UnexpectedRsv23],
    ['rsv3', clientFrame(OP.TEXT, 'a', { rsv3: true }), server, E.UnexpectedRsv23],
    ['rsv1 without an extension', clientFrame(OP.TEXT, 'a', { rsv1: true }), server, E.UnexpectedRsv1],
    ['opcode 3', clientFrame(3), server, E.InvalidOpcode],
    ['opcode 0xB', clientFrame(0xb), server, E.InvalidOpcode],
    ['fragmented ping', clientFrame(OP.PING, '', { fin: false }), server, E.ExpectedFin],
    ['ping with a 16-bit length', clientFrame(OP.PING, 'a', { lengthEncoding: 16 }), server, E.InvalidControlPayloadLength],
    ['unmasked to a server', serverFrame(OP.TEXT, 'a'), server, E.ExpectedMask],
    ['masked to a client', clientFrame(OP.TEXT, 'a'), client, E.UnexpectedMask],
    ['top bit of the 64-bit length', frameHeader({ opcode: OP.BINARY, lengthEncoding: 64, declaredLength: 2n ** 63n }), server, E.UnsupportedDataPayloadLength],
  ]
  for (const [name, input, options, code] of cases) check(t, name, input, options, [`error ${code} 1002`])
  // Legal lengths from 2^53 up are more than any limit allows: too big, not a protocol error.
  check(t, '64-bit length of 2^53', frameHeader({ opcode: OP.BINARY, lengthEncoding: 64, declaredLength: 2n ** 53n }), server, [`error ${E.UnsupportedDataPayloadLength} 1009`])
  check(t, '64-bit length of 2^62', frameHeader({ opcode: OP.BINARY, lengthEncoding: 64, declaredLength: 2n ** 62n }), server, [`error ${E.UnsupportedDataPayloadLength} 1009`])
})

t.test('64-bit lengths up to 2^53 - 1 are counted exactly', async (t) => {
  for (const length of [65536, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 12345, 2 ** 53 - 1]) {
    const { sink: s, calls } = sink()
    const parser = new FrameParser(s, server)
    feed(parser, frameHeader({ opcode: OP.BINARY, declaredLength: BigInt(length) }))
    t.same(calls, [`start op=2 fin=true rsv1=false len=${length}`], `length ${length}`)
  }
})

t.test('permessage-deflate allows RSV1 on the first frame of a message only (RFC 7692 §6)', async (t) => {
  const options: FrameParserOptions = { role: 'server', rsv1OnMessages: true }
  check(t, 'rsv1 text', clientFrame(OP.TEXT, 'a', { rsv1: true }), options, ['start op=1 fin=true rsv1=true len=1', 'end fin=true payload=61'])
  check(t, 'rsv1 binary, not final', clientFrame(OP.BINARY, 'a', { rsv1: true, fin: false }), options, ['start op=2 fin=false rsv1=true len=1', 'end fin=false payload=61'])
  check(t, 'rsv1 continuation', clientFrame(OP.CONT, 'a', { rsv1: true }), options, [`error ${E.UnexpectedRsv1} 1002`])
  check(t, 'rsv1 ping', clientFrame(OP.PING, 'a', { rsv1: true }), options, [`error ${E.UnexpectedRsv1} 1002`])
  check(t, 'rsv1 close', clientFrame(OP.CLOSE, '', { rsv1: true }), options, [`error ${E.UnexpectedRsv1} 1002`])
  check(t, 'rsv2 still rejected', clientFrame(OP.TEXT, 'a', { rsv2: true }), options, [`error ${E.UnexpectedRsv23} 1002`])
})

t.test('payload pieces are views of the input, never empty, unmasked in place', async (t) => {
  const input = clientFrame(OP.BINARY, 'hello world')
  const { sink: s, pieces, calls } = sink()
  const parser = new FrameParser(s, server)
  feed(parser, input.subarray(0, 9))
  feed(parser, input.subarray(9))
  t.same(pieces.map((p) => p.toString()), ['hel', 'lo world'])
  t.equal(pieces[0].buffer, input.buffer, 'a view of the pushed bytes')
  t.equal(input.subarray(6, 9).toString(), 'hel', 'unmasked in place')
  t.notOk(calls.includes('EMPTY PIECE'))
})

t.test('stopped and bufferedLength', async (t) => {
  const { sink: s } = sink()
  const parser = new FrameParser(s, server)
  t.equal(parser.stopped, false)
  const ping = clientFrame(OP.PING, 'abc')
  feed(parser, ping.subarray(0, 1))
  t.equal(parser.bufferedLength, 1, 'half a header')
  feed(parser, ping.subarray(1, 8))
  t.equal(parser.bufferedLength, 2, 'a control frame waits whole: 2 payload bytes so far')
  parser.stop()
  t.equal(parser.stopped, true)
  t.equal(parser.bufferedLength, 0, 'stop drops buffered input')
  feed(parser, clientFrame(OP.TEXT, 'x'))
  t.equal(parser.bufferedLength, 0, 'input after stop is discarded')

  const { sink: s2, calls } = sink()
  const failing = new FrameParser(s2, server)
  feed(failing, Buffer.concat([serverFrame(OP.TEXT, 'x'), clientFrame(OP.TEXT, 'y')]))
  t.equal(failing.stopped, true, 'a framing error stops the parser')
  t.same(calls, [`error ${E.ExpectedMask} 1002`], 'and nothing after it is parsed')
})

t.test('the sink may stop the parser from any callback', async (t) => {
  const input = Buffer.concat([clientFrame(OP.TEXT, 'abcdef'), clientFrame(OP.PING), clientFrame(OP.TEXT), clientFrame(OP.BINARY, 'z')])
  const stops: Array<[keyof FrameSink, Call[]]> = [
    ['onDataFrameStart', ['start op=1 fin=true rsv1=false len=6']],
    ['onDataPayload', ['start op=1 fin=true rsv1=false len=6']],
    ['onDataFrameEnd', ['start op=1 fin=true rsv1=false len=6', 'end fin=true payload=616263646566']]
  ]
  for (const [hook, expected] of stops) {
    const wrong: string[] = []
    for (const chunking of chunkings(input, { seeds: [1, 2] })) {
      const recorder = sink({ [hook]: (p: FrameParser) => p.stop() })
      const parser = new FrameParser(recorder.sink, server)
      recorder.bind(parser)
      for (const chunk of chunking.chunks) feed(parser, chunk)
      if (!isDeepStrictEqual(recorder.calls, expected)) wrong.push(`${chunking.name}: ${recorder.calls.join(' | ')}`)
    }
    t.same(wrong, [], `stop in ${hook} ends parsing in every chunking`)
  }
  // Stopping on a zero-length data frame's start skips its end.
  const empty = sink({ onDataFrameStart: (p) => p.stop() })
  const parser = new FrameParser(empty.sink, server)
  empty.bind(parser)
  feed(parser, Buffer.concat([clientFrame(OP.TEXT), clientFrame(OP.TEXT)]))
  t.same(empty.calls, ['start op=1 fin=true rsv1=false len=0'])
  // Stopping on a control frame.
  const control = sink({ onControlFrame: (p) => p.stop() })
  const parser2 = new FrameParser(control.sink, server)
  control.bind(parser2)
  feed(parser2, Buffer.concat([clientFrame(OP.CLOSE), clientFrame(OP.TEXT, 'after')]))
  t.same(control.calls, ['control op=8 payload='])
})

t.test('a sink that yields stops parse() after that frame; the rest stays queued, unparsed', async (t) => {
  const frames = [clientFrame(OP.TEXT, 'one'), clientFrame(OP.PING, 'p'), clientFrame(OP.BINARY, 'two'), clientFrame(OP.CLOSE)]
  const input = Buffer.concat(frames)
  const wrong: string[] = []
  for (const chunking of chunkings(input)) {
    const recorder = sink({ onDataFrameEnd: () => true, onControlFrame: () => true })
    const parser = new FrameParser(recorder.sink, server)
    recorder.bind(parser)
    const yields: number[] = []
    for (const chunk of chunking.chunks) {
      parser.push(chunk)
      while (parser.parse()) yields.push(recorder.calls.length)
    }
    const expected = ['start op=1 fin=true rsv1=false len=3', 'end fin=true payload=6f6e65', 'control op=9 payload=70',
      'start op=2 fin=true rsv1=false len=3', 'end fin=true payload=74776f', 'control op=8 payload=']
    if (!isDeepStrictEqual(recorder.calls, expected) || !isDeepStrictEqual(yields, [2, 3, 5, 6])) {
      wrong.push(`${chunking.name}: ${recorder.calls.join(' | ')} yields ${yields.join(',')}`)
    }
  }
  t.same(wrong, [], 'one yield per frame, in every chunking')

  const recorder = sink({ onDataFrameEnd: () => true })
  const parser = new FrameParser(recorder.sink, server)
  parser.push(input)
  t.equal(parser.parse(), true, 'yields after the first message')
  t.equal(parser.bufferedLength, input.length - frames[0].length, 'the frames behind it are still unparsed bytes')
})
