// WebSocketProtocol commands (send, ping, pong, close, fail, receiveEnd) and the state rules
// around them: bytes out, events out, and the synchronous errors for caller misuse.
import t from 'tap'
import { createProtocol, feed, runChunks } from '../helpers/protocol-recorder.js'
import { OP, clientFrame, closeBody, decodeFrame, hex } from '../helpers/frames.js'
import {
  CloseCode,
  ProtocolErrorCode as E,
  WebSocketProtocol,
  WebSocketProtocolError,
  WebSocketStateError,
  protocolError
} from '../../src/protocol/index.js'
import { SMALL_FRAME_COPY_LIMIT } from '../../src/protocol/frame-serializer.js'

const server = { role: 'server' as const }

t.test('send: opcode from the binary flag', async (t) => {
  const table: Array<[Parameters<WebSocketProtocol['send']>, string]> = [
    [['hi', false], '81026869'],
    [[Buffer.from('hi'), true], '82026869'],
    [['hi', true], '82026869'],
    [[Buffer.from('hi'), false], '81026869'],
    [['', false], '8100'],
    [[Buffer.alloc(0), true], '8200'],
    [['€', false], '8103e282ac']
  ]
  for (const [args, bytes] of table) {
    const run = createProtocol(server)
    run.protocol.send(...args)
    t.same(run.written, [bytes], `send(${JSON.stringify(args)})`)
    t.same(run.writes.map((w) => w.endOfFrame), [true], 'one chunk, marked as the end of the frame')
  }
})

t.test('send: minimal length encodings', async (t) => {
  for (const [length, headerHex] of [[125, '827d'], [126, '827e007e'], [65535, '827effff'], [65536, '827f0000000000010000']] as const) {
    const run = createProtocol(server)
    run.protocol.send(Buffer.alloc(length, 1), true)
    const frame = Buffer.from(run.written[0], 'hex')
    t.equal(frame.subarray(0, headerHex.length / 2).toString('hex'), headerHex, `length ${length}`)
    t.equal(frame.length, headerHex.length / 2 + length)
  }
})

t.test('send: large payloads are written as [header, payload] without copying', async (t) => {
  const run = createProtocol(server)
  const payload = Buffer.alloc(SMALL_FRAME_COPY_LIMIT + 1, 7)
  run.protocol.send(payload, true)
  t.equal(run.writes.length, 2)
  t.same(run.writes.map((w) => w.endOfFrame), [false, true], 'endOfFrame only on the last chunk')
  t.equal(run.writes[1].chunk, payload, 'the payload buffer itself')
  t.equal(run.writes[0].chunk.toString('hex'), '827e0401')

  const small = createProtocol(server)
  const smallPayload = Buffer.alloc(SMALL_FRAME_COPY_LIMIT, 7)
  small.protocol.send(smallPayload, true)
  t.equal(small.writes.length, 1, 'small payloads are copied after the header: one chunk')
  t.not(small.writes[0].chunk, smallPayload)
})

t.test('send: fragmented messages', async (t) => {
  const run = createProtocol(server)
  run.protocol.send('a', false, false)
  run.protocol.ping(Buffer.from('p')) // control frames may be interleaved (§5.4)
  run.protocol.send(Buffer.from('b'), true, false) // continuation whatever the type
  run.protocol.send('c', false)
  run.protocol.send(Buffer.from('d'), true) // a new message
  run.protocol.send(Buffer.from('e'), true, false)
  run.protocol.send('f', false)
  t.same(run.written, ['010161', '890170', '000162', '800163', '820164', '020165', '800166'])
})

t.test('ping and pong', async (t) => {
  const run = createProtocol(server)
  run.protocol.ping()
  run.protocol.pong()
  run.protocol.ping(Buffer.alloc(125, 1))
  run.protocol.pong(Buffer.from('beat'))
  t.same(run.written, ['8900', '8a00', '897d' + '01'.repeat(125), '8a0462656174'])
  t.throws(() => run.protocol.ping(Buffer.alloc(126)), RangeError)
  t.throws(() => run.protocol.pong(Buffer.alloc(126)), RangeError)
  t.equal(run.written.length, 4, 'nothing written for a rejected command')
})

t.test('close: bytes, state, and idempotence', async (t) => {
  const cases: Array<[Parameters<WebSocketProtocol['close']>, string]> = [
    [[], '8800'],
    [[1000], '880203e8'],
    [[1000, 'bye'], '880503e8627965'],
    [[4999, Buffer.from([0xe2, 0x82, 0xac])], '88051387e282ac'],
    [[3000, 'x'.repeat(123)], '887d0bb8' + '78'.repeat(123)]
  ]
  for (const [args, bytes] of cases) {
    const run = createProtocol(server)
    t.ok(run.protocol.canSend())
    run.protocol.close(...args)
    t.same(run.written, [bytes], `close(${JSON.stringify(args)})`)
    t.equal(run.protocol.state, 'close-sent')
    t.equal(run.protocol.canSend(), false)
    run.protocol.close(1000)
    t.equal(run.written.length, 1, 'a second close writes nothing')
  }
})

t.test('close: caller mistakes throw before anything is written', async (t) => {
  const run = createProtocol(server)
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5, NaN]) {
    t.throws(() => run.protocol.close(code), RangeError, `close(${code})`)
  }
  t.throws(() => run.protocol.close(1000, 'x'.repeat(124)), RangeError, 'reason over 123 bytes')
  t.throws(() => run.protocol.close(1000, '€'.repeat(42)), RangeError, '126 bytes of UTF-8 in 42 characters')
  t.throws(() => run.protocol.close(undefined, 'reason'), TypeError, 'a reason needs a code')
  t.same(run.written, [])
  t.equal(run.protocol.state, 'open')
  // Still checked after closing.
  run.protocol.close()
  t.throws(() => run.protocol.close(1005), RangeError)
})

t.test('after close(): no sends; received data is still parsed and reported (the connection drops it)', async (t) => {
  const run = createProtocol(server)
  run.protocol.close(1001)
  for (const action of [() => run.protocol.send('x', false), () => run.protocol.ping(), () => run.protocol.pong()]) {
    t.throws(action, { name: 'WebSocketStateError', code: 'WS_ERR_INVALID_STATE' })
  }
  feed(run, [clientFrame(OP.TEXT, 'still')])
  feed(run, [clientFrame(OP.PING, 'p')])
  feed(run, [clientFrame(OP.CLOSE, closeBody(1001, 'ok'))])
  t.same(run.timeline, [
    { type: 'write', frame: 'close 1001 ""' },
    { type: 'message', binary: false, data: Buffer.from('still').toString('hex') },
    { type: 'ping', data: '70' }, // no pong once our close is sent
    { type: 'close', code: 1001, reason: 'ok' } // and no second close frame
  ])
  t.equal(run.protocol.state, 'closed')
  t.equal(run.protocol.transportAction, 'close', 'the server closes TCP first (§7.1.1)')
  feed(run, [clientFrame(OP.TEXT, 'late')])
  t.equal(run.timeline.length, 4, 'input after the close handshake is discarded')
  run.protocol.close(1000)
  t.equal(run.written.length, 1)
})

t.test('after the peer closed: close() does nothing more, sends throw', async (t) => {
  const run = runChunks(server, [clientFrame(OP.CLOSE, closeBody(1000))])
  t.equal(run.protocol.closeReceived, true)
  t.equal(run.protocol.state, 'closed')
  run.protocol.close(1000, 'again')
  t.equal(run.written.length, 1)
  t.throws(() => run.protocol.send('x', false), WebSocketStateError)
  run.protocol.fail(protocolError(E.InvalidOpcode, 'late'))
  t.equal(run.written.length, 1, 'fail after a completed close handshake writes nothing')
  t.equal(run.protocol.state, 'closed', 'and changes nothing')
})

t.test('fail(): close frame with the code and message, then input is discarded', async (t) => {
  const run = createProtocol(server)
  const error = new WebSocketProtocolError(E.MessageTooBig, CloseCode.PolicyViolation, 'policy')
  run.protocol.fail(error)
  t.equal(run.protocol.state, 'failed')
  t.equal(run.protocol.transportAction, 'close', '§7.1.7: close the connection after failing it')
  t.equal(run.protocol.canSend(), false)
  t.same(run.written, ['880803f0706f6c696379'])
  t.same(run.timeline, [{ type: 'write', frame: 'close 1008 "policy"' }], 'fail() is a command: the caller reports the error, no event')
  feed(run, [clientFrame(OP.TEXT, 'ignored')])
  t.equal(run.protocol.bufferedInput, 0, 'input after failing is not even kept (nothing had arrived before)')
  run.protocol.fail(protocolError(E.InvalidOpcode, 'second'))
  t.equal(run.timeline.length, 1, 'input ignored, a second fail writes nothing')
  run.protocol.close(1000)
  t.equal(run.written.length, 1, 'close after fail writes nothing')
})

t.test('fail(): long messages are cut to a 123-byte reason', async (t) => {
  const run = createProtocol(server)
  run.protocol.fail(new WebSocketProtocolError(E.InvalidUtf8, 1007, 'm'.repeat(300)))
  const frame = decodeFrame(Buffer.from(run.written[0], 'hex'))
  t.equal(frame.payload.length, 125)
  t.equal(frame.payload.readUInt16BE(0), 1007)
  t.equal(frame.payload.subarray(2).toString(), 'm'.repeat(123))
  const exact = createProtocol(server)
  exact.protocol.fail(new WebSocketProtocolError(E.InvalidUtf8, 1007, 'n'.repeat(123)))
  t.equal(decodeFrame(Buffer.from(exact.written[0], 'hex')).payload.length, 125)
})

t.test('fail() after our close: no second close frame', async (t) => {
  const run = createProtocol(server)
  run.protocol.close(1000)
  run.protocol.fail(protocolError(E.InvalidOpcode, 'x'))
  t.same(run.timeline.map((e) => e.type), ['write'])
  t.equal(run.protocol.state, 'failed')
  // And the same for a peer error after our close, which is reported as an event.
  const peer = createProtocol(server)
  peer.protocol.close(1000)
  feed(peer, [clientFrame(OP.CLOSE, [3])])
  t.same(peer.timeline.map((e) => e.type), ['write', 'error'])
  t.match(peer.timeline[1], { code: E.InvalidControlPayloadLength })
})

t.test('receiveEnd(): later input discarded, sends throw, close and fail write nothing', async (t) => {
  const run = createProtocol(server)
  feed(run, [clientFrame(OP.TEXT, 'ab').subarray(0, 7)]) // a partial frame
  run.protocol.receiveEnd()
  t.equal(run.protocol.state, 'ended')
  t.equal(run.protocol.transportAction, 'close')
  t.equal(run.protocol.canSend(), false)
  feed(run, [clientFrame(OP.TEXT, 'ab').subarray(7)])
  feed(run, [clientFrame(OP.TEXT, 'cd')])
  t.same(run.timeline, [])
  t.throws(() => run.protocol.send('x', false), WebSocketStateError)
  run.protocol.close(1000)
  t.same(run.written, [], 'no close frame on an ended transport')
  run.protocol.fail(protocolError(E.InvalidOpcode, 'x'))
  t.same(run.written, [], 'fail writes nothing either')
  t.equal(run.protocol.state, 'failed')
})

t.test('receiveEnd() before any input: ended at once, later input neither parsed nor kept', async (t) => {
  const run = createProtocol(server)
  run.protocol.receiveEnd()
  t.equal(run.protocol.state, 'ended')
  feed(run, [clientFrame(OP.TEXT, 'late')])
  t.equal(run.protocol.bufferedInput, 0)
  t.same(run.timeline, [])
})

t.test('receiveEnd(): what arrived before the end and was not pulled yet is still delivered', async (t) => {
  const run = createProtocol(server)
  run.protocol.receive(Buffer.concat([clientFrame(OP.TEXT, 'one'), clientFrame(OP.TEXT, 'two'), clientFrame(OP.TEXT, 'three').subarray(0, 8)]))
  run.protocol.receiveEnd()
  t.equal(run.protocol.state, 'open', 'not ended while queued input may hold events')
  t.equal(run.protocol.canSend(), true, 'the messages before the end can still be answered')
  run.drain(run.protocol)
  t.same(run.timeline.map((e) => e.type === 'message' ? Buffer.from(e.data, 'hex').toString() : e.type), ['one', 'two'])
  t.equal(run.protocol.state, 'ended', 'ended once the queued input is used up (the last frame was cut)')
  t.equal(run.protocol.transportAction, 'close')
})

t.test('pings that arrive after our close get no pong', async (t) => {
  const run = createProtocol(server)
  run.protocol.close()
  feed(run, [Buffer.concat([clientFrame(OP.PING, 'a'), clientFrame(OP.PING, 'b')])])
  t.same(run.timeline.map((e) => e.type), ['write', 'ping', 'ping'])
})

t.test('options: maxMessageSize is validated and the default is 1 MiB', async (t) => {
  const { output } = createProtocol(server)
  for (const bad of [-1, 1.5, NaN, -Infinity, 2 ** 60]) {
    t.throws(() => new WebSocketProtocol(output, { role: 'server', maxMessageSize: bad }), RangeError, `maxMessageSize ${bad}`)
  }
  t.doesNotThrow(() => new WebSocketProtocol(output, { role: 'server', maxMessageSize: Infinity }))
  t.doesNotThrow(() => new WebSocketProtocol(output, { role: 'server', maxMessageSize: 0 }))
  const atDefault = runChunks(server, [Buffer.concat([hex('82ff0000000000100000'), hex('00000000')])])
  t.equal(atDefault.timeline.length, 0, '1 MiB exactly passes the header check')
  const overDefault = runChunks(server, [Buffer.concat([hex('82ff0000000000100001'), hex('00000000')])])
  t.match(overDefault.timeline.at(-1), { type: 'error', code: E.MessageTooBig, closeCode: 1009 })
})

t.test('a message event may be a view, but writes are never reused', async (t) => {
  const run = createProtocol(server)
  run.protocol.send('one', false)
  const first = Buffer.from(run.writes[0].chunk)
  run.protocol.send('two', false)
  t.same(run.writes[0].chunk, first, 'the first written buffer was not overwritten')
})

t.test('autoPong: false leaves pings unanswered (the app answers them itself)', async (t) => {
  const run = runChunks({ role: 'server', autoPong: false }, [clientFrame(OP.PING, 'p')])
  t.same(run.timeline, [{ type: 'ping', data: '70' }], 'the ping is reported, nothing written')
  run.protocol.pong(Buffer.from('p'))
  t.same(run.written, ['8a0170'], 'an explicit pong goes out')
})
