/**
 * Autobahn testsuite case groups 9.7 and 9.8 (limits and performance: round trips) against
 * the echo app: 1000 messages of 0 to 4096 bytes, each sent after the previous echo arrived,
 * all come back intact and in order.
 */
import t from 'tap'
import { FuzzPeer, expectText, startEchoServer } from '../helpers/conformance.js'
import { repeated } from '../helpers/payloads.js'
import { OP, clientFrame } from '../helpers/frames.js'

const port = await startEchoServer(t)

const COUNT = 1000
const SIZES = [0, 16, 64, 256, 1024, 4096]

for (const [kind, group, opcode] of [['text', '9.7', OP.TEXT], ['binary', '9.8', OP.BINARY]] as Array<[string, string, number]>) {
  for (const [index, size] of SIZES.entries()) {
    t.test(`${group}.${index + 1} ${COUNT} ${kind} messages of ${size} bytes, each sent after the previous echo, come back in order`, async (t) => {
      const peer = await FuzzPeer.open(t, port)
      let wrong = 0
      for (let i = 0; i < COUNT; i++) {
        // Each message distinct (its number at the front), so a reordering or a loss shows.
        const payload = repeated(`${i}:${'BAsd7&jh23'}`, size)
        peer.send(clientFrame(opcode, payload))
        const f = await peer.client.readFrame()
        if (f.opcode !== opcode || !f.fin || f.masked || !f.payload.equals(payload)) wrong++
      }
      t.equal(wrong, 0, `all ${COUNT} echoes exact and in order`)
      await peer.closeNormally()
    })
  }
}

t.test('9.7.x 1000 text messages of 64 bytes sent back to back come back in order', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payloads = Array.from({ length: COUNT }, (_, i) => repeated(`${i}:`, 64))
  peer.send(...payloads.map((p) => clientFrame(OP.TEXT, p)))
  const frames = await peer.expectFrames(payloads.map((p) => expectText(p)))
  t.equal(frames.length, COUNT)
  await peer.closeNormally()
})

