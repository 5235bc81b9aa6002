/**
 * Autobahn testsuite case groups 9.5 and 9.6 (limits and performance: chopped writes) against
 * the echo app: a 1 MiB text or binary message in one frame, written to TCP in chops of 64 to
 * 2048 bytes, each chop its own write in its own turn of the event loop, is echoed intact.
 * Beyond the suite: a 4 MiB message written in chunks of 64 B to 64 KiB.
 */
import t from 'tap'
import { FuzzPeer, expectBinary, expectText, startEchoServer } from '../helpers/conformance.js'
import { repeated } from '../helpers/payloads.js'
import { OP, clientFrame } from '../helpers/frames.js'

const port = await startEchoServer(t)

const KiB = 1024
const MiB = 1024 * KiB
const LARGE_WAIT = 20000
const TEXT = (size: number): Buffer => repeated('BAsd7&jh23', size)
const BINARY = (size: number): Buffer => repeated(Buffer.from([0xfe, 0x00, 0x7f, 0x80, 0xff, 0x01, 0x23]), size)

for (const [kind, group, opcode] of [['text', '9.5', OP.TEXT], ['binary', '9.6', OP.BINARY]] as Array<[string, string, number]>) {
  for (const [index, chopSize] of [64, 128, 256, 512, 1024, 2048].entries()) {
    t.test(`${group}.${index + 1} ${kind} message of 1 MiB written in chops of ${chopSize} bytes is echoed intact`, async (t) => {
      const peer = await FuzzPeer.open(t, port)
      const payload = kind === 'text' ? TEXT(MiB) : BINARY(MiB)
      await peer.sendChopped(clientFrame(opcode, payload), chopSize)
      await peer.expectFrames([kind === 'text' ? expectText(payload) : expectBinary(payload)], LARGE_WAIT)
      await peer.closeNormally()
    })
  }
}

for (const [label, chunkSize] of [['64 B', 64], ['256 B', 256], ['1 KiB', KiB], ['4 KiB', 4 * KiB], ['16 KiB', 16 * KiB], ['64 KiB', 64 * KiB]] as Array<[string, number]>) {
  t.test(`9.5.x text message of 4 MiB written to TCP in chunks of ${label} is echoed intact`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    const payload = TEXT(4 * MiB)
    await peer.sendChopped(clientFrame(OP.TEXT, payload), chunkSize)
    await peer.expectFrames([expectText(payload)], LARGE_WAIT)
    await peer.closeNormally()
  })
}
