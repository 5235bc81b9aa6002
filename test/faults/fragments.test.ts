// Fragment floods: memory must be bounded by the message limit, not by the fragment count,
// and a legitimate message in tiny fragments must not be refused for its fragment count.
import t from 'tap'
import { Opcode, ProtocolEvent, WebSocketProtocol, encodeFrame } from '../../src/protocol/index.js'
import { buildApp } from '../helpers/app.js'
import { OP, buildFrame } from '../helpers/frames.js'
import { RawClient } from '../helpers/raw-client.js'

const mask = Buffer.from([1, 2, 3, 4])

/** A server protocol whose `receive` also pulls every event, keeping messages and errors. */
function recorder (maxMessageSize: number) {
  const messages: Buffer[] = []
  const errors: Array<{ code: string, closeCode: number }> = []
  const inner = new WebSocketProtocol({ write () {} }, { role: 'server', maxMessageSize })
  const protocol = {
    receive (chunk: Buffer): void {
      inner.receive(chunk)
      for (let event = inner.next(); event !== ProtocolEvent.None; event = inner.next()) {
        if (event === ProtocolEvent.Message) messages.push(inner.data)
        if (event === ProtocolEvent.Error) errors.push({ code: inner.error!.code, closeCode: inner.error!.closeCode })
      }
    }
  }
  return { protocol, messages, errors }
}

t.test('200 000 empty continuation frames: no per-fragment memory, then the message', async (t) => {
  const { protocol, messages, errors } = recorder(1024)
  const empty = Buffer.concat(encodeFrame(Opcode.Continuation, Buffer.alloc(0), { fin: false, maskKey: mask }))
  protocol.receive(Buffer.concat(encodeFrame(Opcode.Text, Buffer.from('a'), { fin: false, maskKey: mask })))
  global.gc?.()
  const before = process.memoryUsage().heapUsed
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => empty))
  for (let i = 0; i < 200; i++) protocol.receive(Buffer.from(batch))
  const growth = process.memoryUsage().heapUsed - before
  protocol.receive(Buffer.concat(encodeFrame(Opcode.Continuation, Buffer.from('b'), { maskKey: mask })))
  t.same(errors, [])
  t.equal(messages.length, 1)
  t.equal(messages[0].toString(), 'ab')
  // Each input batch is 6 KB and garbage; 200 000 retained fragment objects would be ~20 MB.
  t.ok(growth < 16 * 1024 * 1024, `heap grew ${(growth / 1048576).toFixed(1)} MiB`)
})

t.test('tiny fragments past the message limit fail with 1009, counted across fragments', async (t) => {
  const { protocol, errors } = recorder(1000)
  protocol.receive(Buffer.concat(encodeFrame(Opcode.Binary, Buffer.alloc(10), { fin: false, maskKey: mask })))
  for (let i = 0; i < 200; i++) protocol.receive(Buffer.concat(encodeFrame(Opcode.Continuation, Buffer.alloc(10), { fin: false, maskKey: mask })))
  t.same(errors, [{ code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009 }])
})

t.test('a 4 MiB message in 64-byte fragments (65 537 frames) is echoed by the echo server config', async (t) => {
  const { port } = await buildApp(t, { plugin: { maxMessageSize: 64 * 1024 * 1024 } })
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  const payload = Buffer.alloc(4 * 1024 * 1024 + 64)
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff
  const frames: Buffer[] = []
  for (let offset = 0; offset < payload.length; offset += 64) {
    frames.push(buildFrame({
      opcode: offset === 0 ? OP.BINARY : OP.CONT,
      fin: offset + 64 >= payload.length,
      payload: payload.subarray(offset, offset + 64)
    }))
  }
  t.equal(frames.length, 65_537)
  client.write(Buffer.concat(frames))
  const echoed = await client.readFrame(20_000)
  t.equal(echoed.opcode, OP.BINARY)
  t.ok(echoed.payload.equals(payload), 'echoed intact')
})
