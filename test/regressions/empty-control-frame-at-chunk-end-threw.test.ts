/**
 * Regression: an empty control frame (ping, pong or close with no payload) whose header was the
 * last thing in the received bytes made ChunkQueue.take(0) read `subarray` of a chunk that
 * was no longer there, so `receive` threw a TypeError instead of answering. A client's
 * `close()` with no code is exactly such a frame, so this broke the common closing handshake.
 */
import t from 'tap'
import { ChunkQueue, ProtocolEvent, WebSocketProtocol, type FrameOutput } from '../../src/protocol/index.js'
import { OP, clientFrame, serverFrame } from '../helpers/frames.js'

/** A protocol whose writes and events are logged; `receive` feeds a chunk and pulls every event. */
function record (role: 'server' | 'client'): { protocol: { receive: (chunk: Buffer) => void }, log: string[] } {
  const log: string[] = []
  const output: FrameOutput = { write: (chunk) => { log.push(`write ${chunk.toString('hex')}`) } }
  let n = 0
  const protocol = new WebSocketProtocol(output, { role, maskKeySource: () => Buffer.from([0, 0, 0, ++n]) })
  const names: Record<number, string> = { [ProtocolEvent.Message]: 'message', [ProtocolEvent.Ping]: 'ping', [ProtocolEvent.Pong]: 'pong' }
  const receive = (chunk: Buffer): void => {
    protocol.receive(chunk)
    for (let event = protocol.next(); event !== ProtocolEvent.None; event = protocol.next()) {
      if (event === ProtocolEvent.Close) log.push(`close ${protocol.closeCode} ${protocol.closeReason}`)
      else if (event === ProtocolEvent.Error) log.push(`error ${protocol.error!.code}`)
      else log.push(`${names[event]} ${protocol.data.toString('hex')}`)
    }
  }
  return { protocol: { receive }, log }
}

t.test('ChunkQueue.take(0) on an empty queue returns an empty buffer', async (t) => {
  const queue = new ChunkQueue()
  const empty = queue.take(0)
  t.equal(empty.length, 0)
  queue.push(Buffer.from([1, 2]))
  queue.skip(2)
  t.equal(queue.take(0).length, 0, 'also once the last chunk was consumed')
  t.equal(queue.length, 0)
})

t.test('server: an empty masked ping/pong/close ending the chunk', async (t) => {
  const ping = record('server')
  t.doesNotThrow(() => ping.protocol.receive(clientFrame(OP.PING)))
  t.same(ping.log, ['write 8a00', 'ping '])

  const pong = record('server')
  t.doesNotThrow(() => pong.protocol.receive(clientFrame(OP.PONG)))
  t.same(pong.log, ['pong '])

  const close = record('server')
  t.doesNotThrow(() => close.protocol.receive(clientFrame(OP.CLOSE)))
  t.same(close.log, ['write 8800', 'close 1005 '])
})

t.test('client: an empty unmasked close ending the chunk', async (t) => {
  const close = record('client')
  t.doesNotThrow(() => close.protocol.receive(serverFrame(OP.CLOSE)))
  t.same(close.log, ['write 888000000001', 'close 1005 '])
})
