/**
 * The read flow: the one owner of "do we read from the transport now". Every combination of
 * reasons, and the transitions that pause and resume the stream exactly once.
 */
import { PassThrough } from 'node:stream'
import t from 'tap'
import { PauseReason, ReadFlow } from '../../src/connection/index.js'

const REASONS = Object.values(PauseReason)

function tracked (): { stream: PassThrough, calls: string[] } {
  const stream = new PassThrough()
  const calls: string[] = []
  const pause = stream.pause.bind(stream)
  const resume = stream.resume.bind(stream)
  stream.pause = () => { calls.push('pause'); return pause() }
  stream.resume = () => { calls.push('resume'); return resume() }
  return { stream, calls }
}

t.test('reads only when no reason is left, for every subset of reasons', async (t) => {
  for (let set = 0; set < 1 << REASONS.length; set++) {
    const { stream } = tracked()
    const flow = new ReadFlow(stream)
    flow.apply()
    const chosen = REASONS.filter((_r, i) => (set & (1 << i)) !== 0)
    for (const reason of chosen) flow.add(reason)
    t.equal(flow.reading, chosen.length === 0, `reasons ${chosen.join('+') || 'none'}`)
    t.equal(stream.isPaused(), chosen.length !== 0)
    // Removing them one by one: reading resumes with the last one, not before.
    chosen.forEach((reason, index) => {
      const resumed = flow.remove(reason)
      t.equal(resumed, index === chosen.length - 1, `removing ${reason} resumes only when it was the last`)
    })
    t.equal(flow.reasons, 0)
  }
})

t.test('each reason is its own: one part cannot lift another part\'s pause', async (t) => {
  const { stream } = tracked()
  const flow = new ReadFlow(stream)
  flow.apply()
  flow.add(PauseReason.App)
  flow.add(PauseReason.Iterator)
  t.equal(flow.remove(PauseReason.Iterator), false, 'the iterator caught up')
  t.equal(flow.reading, false, 'the app still holds it')
  t.equal(flow.has(PauseReason.App), true)
  t.equal(flow.remove(PauseReason.Iterator), false, 'removing a reason twice changes nothing')
  t.equal(flow.remove(PauseReason.App), true)
})

t.test('adding a reason twice needs one removal; transitions touch the stream once', async (t) => {
  const { stream, calls } = tracked()
  const flow = new ReadFlow(stream, PauseReason.Held)
  t.same(calls, ['pause'], 'takes the stream over paused')
  flow.apply()
  t.same(calls, ['pause'], 'and leaves it paused when held')
  flow.add(PauseReason.App)
  flow.add(PauseReason.App)
  t.same(calls, ['pause'], 'no call while nothing changes')
  flow.remove(PauseReason.Held)
  t.same(calls, ['pause'])
  flow.remove(PauseReason.App)
  t.same(calls, ['pause', 'resume'])
})

t.test('closing always reads, whatever the reasons', async (t) => {
  const { stream, calls } = tracked()
  const flow = new ReadFlow(stream)
  flow.apply()
  flow.add(PauseReason.App)
  flow.add(PauseReason.WriteBacklog)
  t.equal(flow.startClosing(), true, 'resumed by closing')
  t.equal(flow.reading, true)
  t.equal(flow.reasons, PauseReason.App | PauseReason.WriteBacklog, 'the reasons are kept (delivery still honours them)')
  t.equal(flow.startClosing(), false, 'once')
  flow.add(PauseReason.Iterator)
  t.equal(flow.reading, true, 'a new reason does not pause a closing connection')
  t.same(calls, ['pause', 'resume', 'pause', 'resume'])
})
