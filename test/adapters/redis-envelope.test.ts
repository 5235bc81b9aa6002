/**
 * The wire envelope and the outage queue, without Redis.
 */
import t from 'tap'
import { ENVELOPE_HEADER_LENGTH, EnvelopeKind, InstanceId, readEnvelope, writeEnvelope } from '../../src/adapters/redis/envelope.js'
import { OutageQueue } from '../../src/adapters/redis/outage-queue.js'

const me = new InstanceId(Buffer.from('0102030405060708', 'hex'))
const other = new InstanceId(Buffer.from('0102030405060709', 'hex'))

t.test('an envelope is 11 header bytes and the payload as is', async (t) => {
  const payload = Buffer.from('héllo')
  const text = writeEnvelope(payload, false, me)
  t.same(text, Buffer.concat([Buffer.from([0xfe, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8]), payload]), 'the exact bytes')
  t.equal(ENVELOPE_HEADER_LENGTH, 11)
  const binary = writeEnvelope(Buffer.from([0, 255]), true, me)
  t.equal(binary[2], 1, 'the binary flag')
  t.equal(readEnvelope(text, other), EnvelopeKind.Text)
  t.equal(readEnvelope(binary, other), EnvelopeKind.Binary)
  t.equal(readEnvelope(text, me), EnvelopeKind.Own, 'its own publish is recognised')
  t.equal(readEnvelope(writeEnvelope(Buffer.alloc(0), true, me), other), EnvelopeKind.Binary, 'an empty payload is fine')
  t.same(text.subarray(ENVELOPE_HEADER_LENGTH), payload)
  payload.write('x')
  t.equal(text.subarray(ENVELOPE_HEADER_LENGTH).toString(), 'héllo', 'the envelope is a copy')
})

t.test('anything else is invalid', async (t) => {
  const good = writeEnvelope(Buffer.from('x'), false, me)
  const cases: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['shorter than the header', good.subarray(0, 10)],
    ['another marker', Buffer.concat([Buffer.from([0x7b]), good.subarray(1)])],
    ['another version', Buffer.concat([Buffer.from([0xfe, 2]), good.subarray(2)])],
    ['reserved flags', Buffer.concat([Buffer.from([0xfe, 1, 0x80]), good.subarray(3)])],
    ['plain text', Buffer.from('{"topic":"x","data":"y"}')]
  ]
  for (const [label, message] of cases) t.equal(readEnvelope(message, other), EnvelopeKind.Invalid, label)
})

t.test('instance ids are 8 random bytes', async (t) => {
  const a = new InstanceId()
  const b = new InstanceId()
  t.equal(a.toString().length, 16)
  t.not(a.toString(), b.toString())
  t.throws(() => new InstanceId(Buffer.alloc(4)), RangeError)
})

const message = (channel: string, size: number): { channel: string, envelope: Buffer } => ({ channel, envelope: Buffer.alloc(size) })

t.test('the outage queue keeps the newest within both bounds', async (t) => {
  const queue = new OutageQueue(3, 100)
  t.equal(queue.push(message('a', 10)), 0)
  t.equal(queue.push(message('b', 10)), 0)
  t.equal(queue.push(message('c', 10)), 0)
  t.equal(queue.push(message('d', 10)), 1, 'the oldest made room (count)')
  t.same([queue.length, queue.bytes], [3, 30])
  t.equal(queue.push(message('e', 80)), 1, 'the oldest made room (bytes: 30 + 80 > 100)')
  t.same([queue.length, queue.bytes], [3, 100], 'exactly at the byte bound')
  t.equal(queue.push(message('f', 15)), 2, 'two made room (bytes: 100 + 15, then 90 + 15)')
  t.same([queue.length, queue.bytes], [2, 95])
  t.equal(queue.push(message('too big', 101)), 1, 'bigger than the budget: refused')
  t.same([queue.length, queue.bytes], [2, 95], 'and the queue unchanged')
  t.same([queue.shift()?.channel, queue.shift()?.channel, queue.shift()], ['e', 'f', undefined])
  t.equal(queue.bytes, 0)
  queue.push(message('g', 1))
  t.equal(queue.clear(), 1)
  t.same([queue.length, queue.bytes], [0, 0])
  t.equal(new OutageQueue(0, 100).push(message('x', 1)), 1, 'zero messages: everything dropped')
  t.equal(new OutageQueue(10, 0).push(message('x', 1)), 1, 'zero bytes: everything dropped')
})

t.test('the outage queue stays FIFO across many pushes and shifts (compaction)', async (t) => {
  const queue = new OutageQueue(5000, 1 << 30)
  let next = 0
  let expected = 0
  let ok = true
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 3000; i++) queue.push(message(String(next++), 1))
    for (let i = 0; i < 2500; i++) {
      const item = queue.shift()
      // Pushes beyond 5000 evict from the head: skip what was evicted.
      const channel = Number(item?.channel)
      if (channel < expected) ok = false
      expected = channel + 1
    }
  }
  t.ok(ok, 'always oldest first')
  t.ok(queue.length <= 5000)
  t.equal(queue.bytes, queue.length)
})
