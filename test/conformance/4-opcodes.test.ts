/**
 * Autobahn testsuite case group 4 (opcodes) against the echo app. Reserved non-control
 * opcodes 3-7 and reserved control opcodes 11-15 fail the connection with 1002
 * (RFC 6455 §5.2), also after a valid message, and nothing after them is processed.
 */
import t from 'tap'
import { FuzzPeer, expectText, startEchoServer } from '../helpers/conformance.js'
import { OP, clientFrame } from '../helpers/frames.js'

const port = await startEchoServer(t)

interface OpcodeCase {
  id: string
  opcode: number
  payload: boolean
  /** Sent after a valid text message and followed by a ping. */
  between: boolean
}

const CASES: OpcodeCase[] = [
  { id: '4.1.1', opcode: 3, payload: false, between: false },
  { id: '4.1.2', opcode: 4, payload: true, between: false },
  { id: '4.1.3', opcode: 5, payload: false, between: true },
  { id: '4.1.4', opcode: 6, payload: true, between: true },
  { id: '4.1.5', opcode: 7, payload: true, between: true },
  { id: '4.2.1', opcode: 11, payload: false, between: false },
  { id: '4.2.2', opcode: 12, payload: true, between: false },
  { id: '4.2.3', opcode: 13, payload: false, between: true },
  { id: '4.2.4', opcode: 14, payload: true, between: true },
  { id: '4.2.5', opcode: 15, payload: true, between: true }
]

for (const c of CASES) {
  const kind = c.opcode < 8 ? 'non-control' : 'control'
  const what = `reserved ${kind} opcode ${c.opcode}${c.payload ? ' with payload' : ''}`
  const name = c.between
    ? `${c.id} text, then ${what}, then ping: text echoed, then 1002, no pong`
    : `${c.id} ${what} fails with 1002`
  t.test(name, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    const bad = clientFrame(c.opcode, c.payload ? 'reserved opcode payload' : '')
    if (c.between) {
      peer.send(clientFrame(OP.TEXT, 'Hello, world!'), bad, clientFrame(OP.PING, 'Hello, world!'))
      await peer.expectFrames([expectText('Hello, world!')])
    } else {
      peer.send(bad)
    }
    await peer.expectFailure(1002)
  })
}

// A reserved opcode as the first frame of a fragmented message, and in the middle of one.
for (const opcode of [3, 4, 5, 6, 7]) {
  t.test(`4.x reserved opcode ${opcode} as the first fragment of a message fails with 1002`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    peer.send(clientFrame(opcode, 'a', { fin: false }), clientFrame(OP.CONT, 'b'))
    await peer.expectFailure(1002)
  })
}

for (const opcode of [3, 11]) {
  t.test(`4.x reserved opcode ${opcode} between the fragments of a text message fails with 1002`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    peer.send(clientFrame(OP.TEXT, 'a', { fin: false }), clientFrame(opcode, 'x'), clientFrame(OP.CONT, 'b'))
    await peer.expectFailure(1002)
  })
}
