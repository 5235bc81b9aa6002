/**
 * Bad frames from a raw client over a real socket (RFC 6455 §5, §7.4.1, §8.1): the exact close
 * code in the server's close frame, then the server closes TCP. Also the normal closing
 * handshake and control frames seen on the wire.
 */
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { deferred } from '../helpers/wait.js'
import { RawClient } from '../helpers/raw-client.js'
import { buildFrame, closeFrame, OP } from '../helpers/frames.js'

const MAX = 1024

interface BadFrameCase {
  name: string
  bytes: () => Buffer
  code: number
}

const utf8Invalid = Buffer.from([0x68, 0x69, 0xc3, 0x28]) // "hi" then a broken 2-byte sequence

const CASES: BadFrameCase[] = [
  { name: 'unmasked client frame', bytes: () => buildFrame({ opcode: OP.TEXT, payload: 'hi', mask: false }), code: 1002 },
  { name: 'RSV1 set (no extension negotiated)', bytes: () => buildFrame({ opcode: OP.TEXT, payload: 'hi', rsv1: true }), code: 1002 },
  { name: 'RSV2 set', bytes: () => buildFrame({ opcode: OP.BINARY, payload: 'hi', rsv2: true }), code: 1002 },
  { name: 'RSV3 set', bytes: () => buildFrame({ opcode: OP.BINARY, payload: 'hi', rsv3: true }), code: 1002 },
  { name: 'reserved data opcode 3', bytes: () => buildFrame({ opcode: 0x3, payload: 'hi' }), code: 1002 },
  { name: 'reserved control opcode 0xB', bytes: () => buildFrame({ opcode: 0xb }), code: 1002 },
  { name: 'ping of 126 bytes', bytes: () => buildFrame({ opcode: OP.PING, payload: Buffer.alloc(126) }), code: 1002 },
  { name: 'fragmented ping', bytes: () => buildFrame({ opcode: OP.PING, payload: 'x', fin: false }), code: 1002 },
  { name: 'continuation with no message started', bytes: () => buildFrame({ opcode: OP.CONT, payload: 'x' }), code: 1002 },
  {
    name: 'new data frame inside a fragmented message',
    bytes: () => Buffer.concat([buildFrame({ opcode: OP.TEXT, payload: 'a', fin: false }), buildFrame({ opcode: OP.TEXT, payload: 'b' })]),
    code: 1002
  },
  {
    name: '64-bit length with the most significant bit set',
    bytes: () => buildFrame({ opcode: OP.BINARY, declaredLength: 0x8000000000000001n, lengthEncoding: 64 }),
    code: 1002
  },
  { name: 'invalid UTF-8 in a text message', bytes: () => buildFrame({ opcode: OP.TEXT, payload: utf8Invalid }), code: 1007 },
  {
    // Fail fast: the final fragment is never sent, so only streaming validation can see it.
    name: 'invalid UTF-8 in the first fragment of a text message',
    bytes: () => buildFrame({ opcode: OP.TEXT, payload: utf8Invalid, fin: false }),
    code: 1007
  },
  {
    name: 'text message ending inside a multi-byte sequence',
    bytes: () => Buffer.concat([
      buildFrame({ opcode: OP.TEXT, payload: Buffer.from([0x61, 0xe2, 0x82]), fin: false }),
      buildFrame({ opcode: OP.CONT, payload: Buffer.alloc(0) })
    ]),
    code: 1007
  },
  {
    // Only the header: the limit must be decided from the length field, before any payload.
    name: 'message over maxMessageSize (header only)',
    bytes: () => buildFrame({ opcode: OP.BINARY, declaredLength: MAX + 1 }).subarray(0, 8),
    code: 1009
  },
  {
    name: 'fragments adding up to more than maxMessageSize (second header only)',
    bytes: () => Buffer.concat([
      buildFrame({ opcode: OP.BINARY, payload: Buffer.alloc(MAX - 10), fin: false }),
      buildFrame({ opcode: OP.CONT, declaredLength: 11 }).subarray(0, 6)
    ]),
    code: 1009
  },
  { name: 'close frame with a 1-byte payload', bytes: () => buildFrame({ opcode: OP.CLOSE, payload: Buffer.from([0x03]) }), code: 1002 },
  { name: 'close frame with code 1005', bytes: () => closeFrame(1005), code: 1002 },
  { name: 'close frame with code 1006', bytes: () => closeFrame(1006), code: 1002 },
  { name: 'close frame with code 999', bytes: () => closeFrame(999), code: 1002 },
  { name: 'close frame with code 5000', bytes: () => closeFrame(5000), code: 1002 },
  {
    name: 'close frame with an invalid UTF-8 reason',
    bytes: () => buildFrame({ opcode: OP.CLOSE, payload: Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from([0xff, 0xfe])]) }),
    code: 1007
  }
]

t.test('bad frames fail the connection with the exact close code, then the server closes TCP', async (t) => {
  const serverErrors: Array<{ code: unknown, closeCode: unknown }> = []
  const { port } = await buildApp(t, {
    plugin: { maxMessageSize: MAX },
    setup (app) {
      app.get('/ws', { websocket: true }, (socket) => {
        socket.on('error', (error) => {
          const e = error as Error & { code?: unknown, closeCode?: unknown }
          serverErrors.push({ code: e.code, closeCode: e.closeCode })
        })
        socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
      })
    }
  })

  for (const c of CASES) {
    await t.test(`${c.name}: ${c.code}`, async (t) => {
      const { client } = await RawClient.open(port, '/ws')
      t.teardown(() => client.destroy())
      const errorsBefore = serverErrors.length
      client.write(c.bytes())
      const close = await client.readClose()
      t.equal(close.code, c.code, 'close code')
      t.same(close.before, [], 'no other frame before the close')
      t.equal(close.frame.masked, false, 'server frames are never masked')
      t.ok(Buffer.byteLength(close.reason) <= 123, 'reason fits in a control frame')
      await client.waitClosed()
      t.equal(client.pending.length, 0, 'nothing after the close frame')
      t.equal(serverErrors.length, errorsBefore + 1, 'one server error event')
      const error = serverErrors[serverErrors.length - 1]
      t.equal(error?.closeCode, c.code, 'the error carries the close code')
      t.match(error?.code, /^WS_ERR_/, 'and a stable string code')
    })
  }
})

t.test('input after a protocol error is discarded', async (t) => {
  const messages: string[] = []
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/ws', { websocket: true }, (socket) => {
        socket.on('error', () => {})
        socket.on('message', (data) => messages.push(String(data)))
      })
    }
  })
  const { client } = await RawClient.open(port, '/ws')
  t.teardown(() => client.destroy())
  client.write(Buffer.concat([
    buildFrame({ opcode: OP.TEXT, payload: 'before' }),
    buildFrame({ opcode: 0x3 }),
    buildFrame({ opcode: OP.TEXT, payload: 'after' })
  ]))
  t.equal((await client.readClose()).code, 1002)
  await client.waitClosed()
  t.same(messages, ['before'])
})

t.test('closing handshake started by the client: the server echoes the code and closes TCP first', async (t) => {
  const serverClose = deferred<[number, string]>()
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/ws', { websocket: true }, (socket) => {
        socket.on('close', (code, reason) => serverClose.resolve([code, reason.toString()]))
      })
    }
  })
  const { client } = await RawClient.open(port, '/ws')
  t.teardown(() => client.destroy())
  client.write(closeFrame(1000, 'normal'))
  const close = await client.readClose()
  t.equal(close.code, 1000, 'the code is echoed')
  // We do not end our side: the server must close the connection by itself (§7.1.1).
  await client.waitClosed()
  t.same(await serverClose.wait(), [1000, 'normal'])
})

t.test('frames after the client close frame are ignored', async (t) => {
  const messages: string[] = []
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/ws', { websocket: true }, (socket) => {
        socket.on('message', (data) => messages.push(String(data)))
      })
    }
  })
  const { client } = await RawClient.open(port, '/ws')
  t.teardown(() => client.destroy())
  client.write(Buffer.concat([closeFrame(1000), buildFrame({ opcode: OP.TEXT, payload: 'ignored' })]))
  t.equal((await client.readClose()).code, 1000)
  await client.waitClosed()
  t.same(messages, [])
})

t.test('control frames on the wire: pong echoes the ping, empty ping at the end of a packet', async (t) => {
  const { port } = await buildApp(t)
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())

  client.write(buildFrame({ opcode: OP.PING, payload: 'abc' }))
  const pong = await client.readFrame()
  t.equal(pong.opcode, OP.PONG)
  t.equal(pong.payload.toString(), 'abc')
  t.equal(pong.masked, false)

  // An empty control frame that ends the packet: nothing follows it in the read buffer.
  client.write(buildFrame({ opcode: OP.PING }))
  const emptyPong = await client.readFrame()
  t.equal(emptyPong.opcode, OP.PONG)
  t.equal(emptyPong.payload.length, 0)

  // An unsolicited pong gets no answer; the connection stays usable.
  client.write(buildFrame({ opcode: OP.PONG, payload: 'unsolicited' }))
  client.write(buildFrame({ opcode: OP.TEXT, payload: 'still here' }))
  const echo = await client.readFrame()
  t.equal(echo.opcode, OP.TEXT)
  t.equal(echo.payload.toString(), 'still here')
})

t.test('server frames use the minimal length encoding', async (t) => {
  const { port } = await buildApp(t, { plugin: { maxMessageSize: 70000 } })
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  for (const [size, headerLength] of [[0, 2], [125, 2], [126, 4], [65535, 4], [65536, 10]] as const) {
    client.write(buildFrame({ opcode: OP.BINARY, payload: Buffer.alloc(size, 1) }))
    const frame = await client.readFrame()
    t.equal(frame.payload.length, size)
    t.equal(frame.headerLength, headerLength, `${size} bytes use a ${headerLength}-byte header`)
    t.equal(frame.fin, true)
  }
})
