/**
 * The in-process adapter: a MemoryBus connects the "instances" (apps) of one process.
 */
import t from 'tap'
import { MemoryBus, memoryAdapter } from '../../src/adapters/memory-adapter.js'
import type { TopicAdapter } from '../../src/adapters/topic-adapter.js'
import { Recorder, binaryPayload } from './adapter-harness.js'

function instance (bus?: MemoryBus): { adapter: TopicAdapter, recorder: Recorder } {
  const adapter = memoryAdapter(bus === undefined ? {} : { bus })
  const recorder = new Recorder()
  adapter.start(recorder.context)
  return { adapter, recorder }
}

t.test('a shared bus carries each publish to the other instances\' subscribers, once, in order, never back', async (t) => {
  const bus = new MemoryBus()
  const a = instance(bus)
  const b = instance(bus)
  const c = instance(bus)
  a.adapter.subscribe('news')
  b.adapter.subscribe('news')
  c.adapter.subscribe('other')
  const expected: string[] = []
  for (let i = 0; i < 10; i++) {
    if (i % 2 === 0) {
      a.adapter.publish('news', Buffer.from(`text ${i} é`), false)
      expected.push(`text ${i} é`)
    } else {
      const bytes = binaryPayload(1, i)
      a.adapter.publish('news', bytes, true)
      expected.push(`bin:${bytes.toString('hex')}`)
    }
  }
  t.same(b.recorder.on('news'), expected, 'b got them synchronously, in order, text and binary kept')
  t.same(a.recorder.received, [], 'the publisher got nothing back (its local subscribers are the plugin\'s)')
  t.same(c.recorder.received, [], 'an instance without subscribers of the topic got nothing')
  b.adapter.publish('news', Buffer.from('from b'), false)
  t.same(a.recorder.on('news'), ['from b'])
  t.equal(bus.topicCount, 2)
  t.match(a.adapter.stats, { adapter: 'memory', state: 'ready', topics: 1, messagesOut: 10, messagesIn: 1, bytesIn: 6, dropped: 0, queued: 0 })
  t.match(b.adapter.stats, { messagesIn: 10, messagesOut: 1 })

  b.adapter.unsubscribe('news')
  a.adapter.publish('news', Buffer.from('after b left'), false)
  t.equal(b.recorder.on('news').length, 10, 'no delivery after the last local subscriber left')
  b.adapter.unsubscribe('news') // unknown now: nothing
  a.adapter.subscribe('news') // already subscribed: nothing
  t.equal(a.adapter.stats.topics, 1)
})

t.test('receivers get their own copy: the publisher may reuse its buffer', async (t) => {
  const bus = new MemoryBus()
  const a = instance(bus)
  const b = instance(bus)
  const c = instance(bus)
  b.adapter.subscribe('t')
  c.adapter.subscribe('t')
  const data = Buffer.from('original')
  a.adapter.publish('t', data, false)
  data.write('MUTATED!')
  t.same(b.recorder.on('t'), ['original'])
  t.equal(b.recorder.received[0].data, c.recorder.received[0].data, 'one copy shared by all receivers')
})

t.test('a private bus (the default) reaches no other app', async (t) => {
  const a = instance()
  const b = instance()
  a.adapter.subscribe('t')
  b.adapter.subscribe('t')
  a.adapter.publish('t', Buffer.from('x'), false)
  b.adapter.publish('t', Buffer.from('y'), false)
  t.same([a.recorder.received, b.recorder.received], [[], []])
})

t.test('close() leaves the bus; publishing after close is dropped, never thrown', async (t) => {
  const bus = new MemoryBus()
  const a = instance(bus)
  const b = instance(bus)
  a.adapter.subscribe('t')
  b.adapter.subscribe('t')
  await b.adapter.close()
  t.equal(b.adapter.stats.state, 'closed')
  a.adapter.publish('t', Buffer.from('to nobody'), false)
  t.same(b.recorder.received, [], 'a closed adapter receives nothing')
  t.doesNotThrow(() => b.adapter.publish('t', Buffer.from('late'), false))
  t.same(a.recorder.received, [], 'and carries nothing')
  t.match(b.adapter.stats, { dropped: 1, topics: 0 })
  b.adapter.subscribe('t')
  t.equal(b.adapter.stats.topics, 0, 'subscribe after close does nothing')
  await b.adapter.close()
  t.equal(bus.topicCount, 1, 'only a\'s topic remains on the bus')
  t.throws(() => b.adapter.start(b.recorder.context), /start\(\) called in state 'closed'/)
})

t.test('a deliver that throws does not reach the publisher; logged once', async (t) => {
  const bus = new MemoryBus()
  const a = instance(bus)
  const b = instance(bus)
  const c = instance(bus)
  b.adapter.subscribe('t')
  c.adapter.subscribe('t')
  b.recorder.onDeliver = () => { throw new Error('bug') }
  t.doesNotThrow(() => {
    a.adapter.publish('t', Buffer.from('1'), false)
    a.adapter.publish('t', Buffer.from('2'), false)
  })
  t.same(c.recorder.on('t'), ['1', '2'], 'the other receivers still got them')
  t.equal(b.recorder.logged('error', /deliver threw/).length, 1)
})

t.test('options are checked', async (t) => {
  t.throws(() => memoryAdapter({ bus: {} as MemoryBus }), TypeError)
  t.throws(() => memoryAdapter({ bsu: new MemoryBus() } as never), { name: 'TypeError', message: /unknown option "bsu"/ })
  t.throws(() => memoryAdapter(null as never), TypeError)
  const options = Object.freeze({ bus: new MemoryBus() })
  t.doesNotThrow(() => memoryAdapter(options), 'frozen options are fine (never modified)')
})
