/**
 * Autobahn testsuite case groups 9.3 and 9.4 (limits and performance: fragmented messages)
 * against the echo app: a 4 MiB text or binary message sent in frames of 64 bytes to 4 MiB is
 * joined and echoed intact. 64-byte frames mean 65 536 fragments: no fragment-count cap may
 * reject a message that is within the size limit.
 */
import t from 'tap'
import { FuzzPeer, expectBinary, expectText, startEchoServer } from '../helpers/conformance.js'
import { chop } from '../helpers/chunkings.js'
import { repeated } from '../helpers/payloads.js'
import { OP, clientFrame } from '../helpers/frames.js'

const port = await startEchoServer(t)

const KiB = 1024
const MiB = 1024 * KiB
const MESSAGE = 4 * MiB
const FRAME_SIZES: Array<[string, number]> = [
  ['64 B', 64], ['256 B', 256], ['1 KiB', KiB], ['4 KiB', 4 * KiB], ['16 KiB', 16 * KiB],
  ['64 KiB', 64 * KiB], ['256 KiB', 256 * KiB], ['1 MiB', MiB], ['4 MiB', 4 * MiB]
]
const LARGE_WAIT = 20000

/** `payload` as a fragmented message: first frame `opcode`, then continuations, FIN on the last. */
function fragmented (opcode: number, payload: Buffer, size: number): Buffer {
  const pieces = chop(payload, size)
  return Buffer.concat(pieces.map((piece, i) => clientFrame(i === 0 ? opcode : OP.CONT, piece, { fin: i === pieces.length - 1 })))
}

for (const [kind, group, opcode] of [['text', '9.3', OP.TEXT], ['binary', '9.4', OP.BINARY]] as Array<[string, string, number]>) {
  const payload = kind === 'text'
    ? repeated('BAsd7&jh23', MESSAGE)
    : repeated(Buffer.from([0xfe, 0x00, 0x7f, 0x80, 0xff, 0x01, 0x23]), MESSAGE)
  for (const [index, [label, size]] of FRAME_SIZES.entries()) {
    t.test(`${group}.${index + 1} ${kind} message of 4 MiB in frames of ${label} is echoed intact`, async (t) => {
      const peer = await FuzzPeer.open(t, port)
      peer.send(fragmented(opcode, payload, size))
      await peer.expectFrames([kind === 'text' ? expectText(payload) : expectBinary(payload)], LARGE_WAIT)
      await peer.closeNormally()
    })
  }
}
