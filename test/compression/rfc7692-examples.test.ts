// RFC 7692 §7.2.3's worked examples, byte for byte, through our deflater and inflater, on the
// synchronous and the thread-pool paths.
import t from 'tap'
import { WebSocketProtocolError } from '../../src/protocol/index.js'
import { decodeDeflate } from '../helpers/deflate-decoder.js'
import { TAIL, deflateAll, deflater, inflateAll, inflateOnce, inflater } from '../helpers/deflate.js'
import { hex } from '../helpers/frames.js'

const HELLO = Buffer.from('Hello')

for (const [path, syncMax] of [['sync', Infinity], ['thread pool', 0]] as const) {
  t.test(`deflate, ${path}: §7.2.3.1 "Hello" and §7.2.3.2 the second "Hello" with context takeover`, async (t) => {
    const takeover = deflater({ syncMaxInputBytes: syncMax })
    const { payloads } = await deflateAll(takeover, [HELLO, HELLO])
    t.equal(payloads[0].toString('hex'), 'f248cdc9c90700', '§7.2.3.1: 0xf2 0x48 0xcd 0xc9 0xc9 0x07 0x00')
    t.equal(payloads[1].toString('hex'), 'f200110000', '§7.2.3.2: 0xf2 0x00 0x11 0x00 0x00 (refers back into the first message)')
    const fresh = deflater({ contextTakeover: false, syncMaxInputBytes: syncMax })
    const again = await deflateAll(fresh, [HELLO, HELLO])
    t.same(again.payloads.map((p) => p.toString('hex')), ['f248cdc9c90700', 'f248cdc9c90700'], 'no context takeover: the same bytes twice')
    t.equal(takeover.pending + fresh.pending, 0)
  })

  t.test(`inflate, ${path}: every §7.2.3 example gives "Hello"`, async (t) => {
    const options = { syncMaxInputBytes: syncMax === 0 ? 0 : 1 << 20 }
    const examples: Array<[string, Buffer | Buffer[]]> = [
      ['§7.2.3.1 one compressed block', hex('f2 48 cd c9 c9 07 00')],
      ['§7.2.3.1 the same, in two frames (41 03 f2 48 cd / 80 04 c9 c9 07 00)', [hex('f2 48 cd'), hex('c9 c9 07 00')]],
      ['§7.2.3.3 an uncompressed (stored) block', hex('00 05 00 fa ff 48 65 6c 6c 6f 00')],
      ['§7.2.3.4 a block with BFINAL set', hex('f3 48 cd c9 c9 07 00 00')],
      ['§7.2.3.5 two blocks, "He" then "llo"', hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00')]
    ]
    for (const [name, payload] of examples) {
      const { outcome, async } = await inflateOnce(inflater(options), payload, true)
      t.equal(Buffer.isBuffer(outcome) ? outcome.toString() : String(outcome), 'Hello', name)
      t.equal(async, syncMax === 0, 'took the expected path')
    }
    const shared = inflater(options)
    const both = await inflateAll(shared, [hex('f2 48 cd c9 c9 07 00'), hex('f2 00 11 00 00')], true)
    t.same(both.map(String), ['Hello', 'Hello'], '§7.2.3.2: the second message refers back into the first')
    // Without context takeover the second message cannot be decoded: its distance reaches
    // into a history we were told not to keep.
    const { outcome } = await inflateOnce(inflater({ ...options, contextTakeover: false }), hex('f2 00 11 00 00'), true)
    t.ok(outcome instanceof WebSocketProtocolError && outcome.closeCode === 1007, 'no history: 1007')
  })
}

t.test('the independent decoder agrees with the examples (it is the judge of window tests)', async (t) => {
  t.equal(decodeDeflate(Buffer.concat([hex('f248cdc9c90700'), TAIL])).output.toString(), 'Hello')
  const second = decodeDeflate(Buffer.concat([hex('f200110000'), TAIL]), HELLO)
  t.equal(second.output.toString(), 'Hello')
  t.equal(second.maxDistance, 5, 'the second "Hello" is one match 5 bytes back')
  t.same(decodeDeflate(Buffer.concat([hex('f348cdc9c9070000'), TAIL])).sawFinal, true)
})
