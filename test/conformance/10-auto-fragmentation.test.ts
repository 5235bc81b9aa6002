/**
 * Autobahn testsuite case group 10 (auto-fragmentation) against the echo app: a 65 536-byte
 * text message sent in 1300-byte fragments (50 full ones and a last one of 536 bytes) is
 * echoed intact.
 */
import t from 'tap'
import { FuzzPeer, expectText, startEchoServer } from '../helpers/conformance.js'
import { chop } from '../helpers/chunkings.js'
import { repeated } from '../helpers/payloads.js'
import { OP, clientFrame } from '../helpers/frames.js'

const port = await startEchoServer(t)

t.test('10.1.1 text message of 65536 bytes sent in 1300-byte fragments is echoed intact', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payload = repeated('*', 65536)
  const pieces = chop(payload, 1300)
  t.same([pieces.length, pieces[pieces.length - 1].length], [51, 536], '51 fragments, the last of 536 bytes')
  peer.send(...pieces.map((piece, i) => clientFrame(i === 0 ? OP.TEXT : OP.CONT, piece, { fin: i === pieces.length - 1 })))
  await peer.expectFrames([expectText(payload)])
  await peer.closeNormally()
})

t.test('10.1.x multi-byte text of 65536 bytes in 1300-byte fragments (cutting code points) is echoed intact', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const payload = repeated('aé€𝄞', 65536)
  const pieces = chop(payload, 1300)
  peer.send(...pieces.map((piece, i) => clientFrame(i === 0 ? OP.TEXT : OP.CONT, piece, { fin: i === pieces.length - 1 })))
  await peer.expectFrames([expectText(payload)])
  await peer.closeNormally()
})
