/**
 * Autobahn testsuite case groups 9.1 and 9.2 (limits and performance: large messages) against
 * the echo app, whose limit is 64 MiB: text and binary messages of 64 KiB to 16 MiB, each in
 * one frame, are echoed intact (checked byte for byte through a hash).
 */
import t from 'tap'
import { FuzzPeer, expectBinary, expectText, startEchoServer } from '../helpers/conformance.js'
import { repeated } from '../helpers/payloads.js'
import { OP, clientFrame } from '../helpers/frames.js'

const port = await startEchoServer(t)

const KiB = 1024
const MiB = 1024 * KiB
const SIZES: Array<[string, number]> = [['64 KiB', 64 * KiB], ['256 KiB', 256 * KiB], ['1 MiB', MiB], ['4 MiB', 4 * MiB], ['8 MiB', 8 * MiB], ['16 MiB', 16 * MiB]]
/** Bound for one large echo; generous for a loaded 2-core machine. */
const LARGE_WAIT = 20000

for (const [index, [label, size]] of SIZES.entries()) {
  t.test(`9.1.${index + 1} text message of ${label} is echoed intact`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    const payload = repeated('BAsd7&jh23', size)
    peer.send(clientFrame(OP.TEXT, payload))
    await peer.expectFrames([expectText(payload)], LARGE_WAIT)
    await peer.closeNormally()
  })
}

for (const [index, [label, size]] of SIZES.entries()) {
  t.test(`9.2.${index + 1} binary message of ${label} is echoed intact`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    const payload = repeated(Buffer.from([0xfe, 0x00, 0x7f, 0x80, 0xff, 0x01, 0x23]), size)
    peer.send(clientFrame(OP.BINARY, payload))
    await peer.expectFrames([expectBinary(payload)], LARGE_WAIT)
    await peer.closeNormally()
  })
}
