/**
 * Events leave the protocol as data, one per `next()`, and parsing goes only as far as the
 * event it returns: so the caller can stop between any two events, and a close frame queued
 * behind messages is answered only when it is reached. In every chunking.
 */
import t from 'tap'
import { ProtocolEvent } from '../../src/protocol/index.js'
import { chunkings } from '../helpers/chunkings.js'
import { createProtocol } from '../helpers/protocol-recorder.js'
import { OP, clientFrame, closeBody } from '../helpers/frames.js'

const input = Buffer.concat([
  clientFrame(OP.TEXT, 'one'),
  clientFrame(OP.PING, 'p'),
  clientFrame(OP.BINARY, 'two', { fin: false }),
  clientFrame(OP.CONT, '!'),
  clientFrame(OP.CLOSE, closeBody(1000, 'bye')),
  clientFrame(OP.TEXT, 'after the close')
])

t.test('one event per next(), the close echo written only when the close is reached', async (t) => {
  const wrong: string[] = []
  let count = 0
  for (const chunking of chunkings(input)) {
    count++
    const run = createProtocol({ role: 'server' })
    const steps: string[] = []
    for (const chunk of chunking.chunks) {
      run.protocol.receive(chunk)
      for (let event = run.protocol.next(); event !== ProtocolEvent.None; event = run.protocol.next()) {
        const writes = run.written.length
        switch (event) {
          case ProtocolEvent.Message: steps.push(`message ${run.protocol.data.toString()} writes=${writes}`); break
          case ProtocolEvent.Ping: steps.push(`ping writes=${writes}`); break
          case ProtocolEvent.Close: steps.push(`close ${run.protocol.closeCode} writes=${writes}`); break
          default: steps.push(`other ${event}`)
        }
        // A message reply written between events goes out before the close echo.
        if (event === ProtocolEvent.Message) run.protocol.send(`re: ${run.protocol.data.toString()}`, false)
      }
    }
    const expected = ['message one writes=0', 'ping writes=2', 'message two! writes=2', 'close 1000 writes=4']
    if (steps.join('|') !== expected.join('|')) wrong.push(`${chunking.name}: ${steps.join(' | ')}`)
    const frames = run.timeline.filter((e) => e.type === 'write').map((e) => e.type === 'write' ? e.frame : '')
    if (frames.at(-1) !== 'close 1000 ""') wrong.push(`${chunking.name}: last write ${String(frames.at(-1))}`)
  }
  t.same(wrong, [], `all ${count} chunkings: replies, pong, then the close echo last`)
})

t.test('between events nothing else is parsed: the rest stays as unparsed bytes', async (t) => {
  const run = createProtocol({ role: 'server' })
  run.protocol.receive(Buffer.from(input))
  t.equal(run.protocol.next(), ProtocolEvent.Message)
  t.equal(run.protocol.bufferedInput, input.length - clientFrame(OP.TEXT, 'one').length, 'only the first frame was consumed')
  t.same(run.written, [], 'the ping behind it is not answered yet')
  t.equal(run.protocol.next(), ProtocolEvent.Ping)
  t.equal(run.written.length, 1, 'its pong now')
  t.equal(run.protocol.next(), ProtocolEvent.Message)
  t.equal(run.protocol.state, 'open')
  t.equal(run.protocol.next(), ProtocolEvent.Close)
  t.equal(run.protocol.state, 'closed')
  t.equal(run.protocol.bufferedInput, 0, 'what followed the close is dropped (§5.5.1)')
  t.equal(run.protocol.next(), ProtocolEvent.None)
})

t.test('sendEncoded during our fragmented message: deferred, counted, flushed after the last fragment, dropped by close', async (t) => {
  const run = createProtocol({ role: 'server' })
  run.protocol.send('a', false, false)
  run.protocol.sendEncoded([Buffer.from('8101', 'hex'), Buffer.from('78', 'hex')])
  run.protocol.sendEncoded([Buffer.from('810179', 'hex')])
  t.equal(run.protocol.deferredBytes, 6, 'both frames count')
  t.same(run.written, ['010161'], 'not written inside our message (§5.4)')
  run.protocol.send('b', false, true)
  t.same(run.written, ['010161', '800162', '810178', '810179'])
  t.equal(run.protocol.deferredBytes, 0)

  const closing = createProtocol({ role: 'server' })
  closing.protocol.send('a', false, false)
  closing.protocol.sendEncoded([Buffer.from('810178', 'hex')])
  closing.protocol.close(1000)
  t.equal(closing.protocol.deferredBytes, 0, 'nothing may follow our close frame: dropped')
  t.same(closing.written, ['010161', '880203e8'])
})
