/**
 * Autobahn testsuite case group 5 (fragmentation) against the echo app: fragmented messages
 * are joined and echoed, control frames may be interleaved and are answered at once
 * (RFC 6455 §5.4), control frames may not be fragmented (§5.5), and continuation frames
 * without a message, or a new message inside a fragmented one, fail the connection with 1002.
 * "Frame by frame" writes each frame with a pause after it (the suite's sync mode); "octet by
 * octet" writes each byte in its own write.
 */
import t from 'tap'
import { FuzzPeer, expectPong, expectText, startEchoServer } from '../helpers/conformance.js'
import { OP, clientFrame } from '../helpers/frames.js'
import { sleep } from '../helpers/wait.js'

const port = await startEchoServer(t)

type Mode = 'one write' | 'frame by frame' | 'octet by octet'

async function sendIn (peer: FuzzPeer, mode: Mode, frames: Buffer[]): Promise<void> {
  if (mode === 'one write') peer.send(...frames)
  else if (mode === 'frame by frame') await peer.sendFrames(frames)
  else await peer.sendChopped(Buffer.concat(frames), 1, 1)
}

t.test('5.1 ping in 2 fragments fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.PING, 'fragment1', { fin: false }), clientFrame(OP.CONT, 'fragment2'))
  await peer.expectFailure(1002)
})

t.test('5.2 pong in 2 fragments fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.PONG, 'fragment1', { fin: false }), clientFrame(OP.CONT, 'fragment2'))
  await peer.expectFailure(1002)
})

for (const [id, mode] of [['5.3', 'one write'], ['5.4', 'frame by frame'], ['5.5', 'octet by octet']] as Array<[string, Mode]>) {
  t.test(`${id} text message in 2 fragments, ${mode}, is echoed whole`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    await sendIn(peer, mode, [clientFrame(OP.TEXT, 'fragment1', { fin: false }), clientFrame(OP.CONT, 'fragment2')])
    await peer.expectFrames([expectText('fragment1fragment2')])
    await peer.closeNormally()
  })
}

for (const [id, mode] of [['5.6', 'one write'], ['5.7', 'frame by frame'], ['5.8', 'octet by octet']] as Array<[string, Mode]>) {
  t.test(`${id} text message in 2 fragments with a ping in between, ${mode}: pong, then the echo`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    await sendIn(peer, mode, [
      clientFrame(OP.TEXT, 'fragment1', { fin: false }),
      clientFrame(OP.PING, 'ping payload'),
      clientFrame(OP.CONT, 'fragment2')
    ])
    await peer.expectFrames([expectPong('ping payload'), expectText('fragment1fragment2')])
    await peer.closeNormally()
  })
}

for (const [id, mode] of [['5.9', 'one write'], ['5.10', 'frame by frame'], ['5.11', 'octet by octet']] as Array<[string, Mode]>) {
  t.test(`${id} continuation with FIN = true and no message to continue, then text, ${mode}: 1002, nothing echoed`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    await sendIn(peer, mode, [clientFrame(OP.CONT, 'non-continuation payload'), clientFrame(OP.TEXT, 'Hello, world!')])
    await peer.expectFailure(1002)
  })
}

for (const [id, mode] of [['5.12', 'one write'], ['5.13', 'frame by frame'], ['5.14', 'octet by octet']] as Array<[string, Mode]>) {
  t.test(`${id} continuation with FIN = false and no message to continue, then text, ${mode}: 1002, nothing echoed`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    await sendIn(peer, mode, [clientFrame(OP.CONT, 'non-continuation payload', { fin: false }), clientFrame(OP.TEXT, 'Hello, world!')])
    await peer.expectFailure(1002)
  })
}

t.test('5.15 text in 2 fragments, then a continuation with no message, then text: first echoed, then 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(
    clientFrame(OP.TEXT, 'fragment1', { fin: false }),
    clientFrame(OP.CONT, 'fragment2'),
    clientFrame(OP.CONT, 'fragment3', { fin: false }),
    clientFrame(OP.TEXT, 'fragment4')
  )
  await peer.expectFrames([expectText('fragment1fragment2')])
  await peer.expectFailure(1002)
})

for (const [id, fin] of [['5.16', false], ['5.17', true]] as Array<[string, boolean]>) {
  t.test(`${id} twice: continuation with FIN = ${String(fin)} and no message, then a text in 2 fragments: 1002 at once`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    const round = [
      clientFrame(OP.CONT, 'fragment1', { fin }),
      clientFrame(OP.TEXT, 'fragment2', { fin: false }),
      clientFrame(OP.CONT, 'fragment3')
    ]
    peer.send(...round, ...round)
    await peer.expectFailure(1002)
  })
}

t.test('5.18 text fragment, then a text frame (not a continuation) with FIN = true: 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 'fragment1', { fin: false }), clientFrame(OP.TEXT, 'fragment2'))
  await peer.expectFailure(1002)
})

const FRAGMENTS = ['fragment1', 'fragment2', 'fragment3', 'fragment4', 'fragment5']

for (const [id, mode] of [['5.19', 'one write'], ['5.20', 'frame by frame']] as Array<[string, Mode]>) {
  t.test(`${id} fragmented text with pings in between and a pause, ${mode}: each pong before the rest is sent, then the echo`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    await sendIn(peer, mode, [
      clientFrame(OP.TEXT, FRAGMENTS[0], { fin: false }),
      clientFrame(OP.CONT, FRAGMENTS[1], { fin: false }),
      clientFrame(OP.PING, 'pongme 1!')
    ])
    // The first pong arrives while the message is still incomplete.
    await peer.expectFrames([expectPong('pongme 1!')])
    await peer.expectSilence(200, 'no echo while the message is incomplete')
    await sendIn(peer, mode, [
      clientFrame(OP.CONT, FRAGMENTS[2], { fin: false }),
      clientFrame(OP.CONT, FRAGMENTS[3], { fin: false }),
      clientFrame(OP.PING, 'pongme 2!'),
      clientFrame(OP.CONT, FRAGMENTS[4])
    ])
    await peer.expectFrames([expectPong('pongme 2!'), expectText(FRAGMENTS.join(''))])
    await peer.closeNormally()
  })
}

// Beyond the suite: the same rules with many fragments, and binary messages.

t.test('5.x text message in 100 fragments with a ping after every tenth is echoed whole after the pongs', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const parts = Array.from({ length: 100 }, (_, i) => `part${i};`)
  const frames: Buffer[] = []
  const pongs: string[] = []
  parts.forEach((p, i) => {
    frames.push(clientFrame(i === 0 ? OP.TEXT : OP.CONT, p, { fin: i === parts.length - 1 }))
    if (i % 10 === 9 && i !== parts.length - 1) {
      frames.push(clientFrame(OP.PING, `ping ${i}`))
      pongs.push(`ping ${i}`)
    }
  })
  peer.send(...frames)
  await peer.expectFrames([...pongs.map((p) => expectPong(p)), expectText(parts.join(''))])
  await peer.closeNormally()
})

t.test('5.x binary message in 3 fragments is echoed whole as binary', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(
    clientFrame(OP.BINARY, Buffer.from([1, 2]), { fin: false }),
    clientFrame(OP.CONT, Buffer.from([3]), { fin: false }),
    clientFrame(OP.CONT, Buffer.from([4, 5]))
  )
  await peer.expectFrames([{ opcode: OP.BINARY, payload: Buffer.from([1, 2, 3, 4, 5]) }])
  await peer.closeNormally()
})

t.test('5.x fragments with a pause of one frame each are joined (frame-level pause)', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.TEXT, 'slow-', { fin: false }))
  await peer.expectSilence(150, 'no echo after the first fragment')
  peer.send(clientFrame(OP.CONT, 'and-', { fin: false }))
  await sleep(150)
  peer.send(clientFrame(OP.CONT, 'steady'))
  await peer.expectFrames([expectText('slow-and-steady')])
  await peer.closeNormally()
})

for (const [what, opcode] of [['text', OP.TEXT], ['binary', OP.BINARY]] as Array<[string, number]>) {
  t.test(`5.x many text fragments, then a ${what} frame instead of a continuation: 1002, nothing echoed`, async (t) => {
    const peer = await FuzzPeer.open(t, port)
    const frames = Array.from({ length: 20 }, (_, i) => clientFrame(i === 0 ? OP.TEXT : OP.CONT, `f${i}`, { fin: false }))
    peer.send(...frames, clientFrame(opcode, 'new message'))
    await peer.expectFailure(1002)
  })
}

t.test('5.x many fragments, then a continuation is fine, then another continuation with no message: echo, then 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  const frames = Array.from({ length: 20 }, (_, i) => clientFrame(i === 0 ? OP.TEXT : OP.CONT, `f${i}`, { fin: i === 19 }))
  peer.send(...frames, clientFrame(OP.CONT, 'orphan'))
  await peer.expectFrames([expectText(Array.from({ length: 20 }, (_, i) => `f${i}`).join(''))])
  await peer.expectFailure(1002)
})

t.test('5.x close in 2 fragments fails with 1002', async (t) => {
  const peer = await FuzzPeer.open(t, port)
  peer.send(clientFrame(OP.CLOSE, Buffer.from([0x03]), { fin: false }), clientFrame(OP.CONT, Buffer.from([0xe8])))
  await peer.expectFailure(1002)
})
