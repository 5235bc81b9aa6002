// Type tests for typed messages (issue 13): compiled by `tsc --noEmit` in `npm test`. The
// handler's message data is inferred from a TypeBox `messageSchema` through Fastify's type
// provider, with no annotation in user code, and `sendJSON` takes only what `sendSchema` says.
import Fastify from 'fastify'
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import websocket, { type WebSocket } from '../../src/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function assertType<T extends true> (_value?: T): void {}

const app = Fastify().withTypeProvider<TypeBoxTypeProvider>()
await app.register(websocket)

const Say = Type.Object({ type: Type.Literal('say'), text: Type.String({ minLength: 1, maxLength: 2000 }) })
const Said = Type.Object({ type: Type.Literal('said'), from: Type.String(), text: Type.String(), at: Type.String() })

app.get('/chat', { websocket: true, messageSchema: Say, sendSchema: Said }, (socket) => {
  socket.on('message', (message, isBinary) => {
    assertType<Equal<typeof message, { type: 'say', text: string }>>()
    assertType<Equal<typeof isBinary, false>>()
    socket.sendJSON({ type: 'said', from: 'ada', text: message.text, at: new Date().toISOString() })
    // @ts-expect-error a value of the wrong shape: sendJSON follows sendSchema
    socket.sendJSON({ type: 'said', text: message.text })
    // @ts-expect-error not even an object
    socket.sendJSON('said')
    // A typed socket is still a socket to skip when publishing (the sender, typically).
    app.publish('room', 'text', { except: socket })
    app.websocketServer.publish('room', 'text', { except: [socket] })
  })
  socket.on('invalid', (error, data, isBinary) => {
    assertType<Equal<typeof error.closeCode, number>>()
    assertType<Equal<typeof data, Buffer>>()
    assertType<Equal<typeof isBinary, boolean>>()
  })
})

// With allowBinaryMessages, binary messages arrive as Buffers, told apart by isBinary.
app.get('/mixed', { websocket: true, messageSchema: Say, allowBinaryMessages: true }, (socket) => {
  socket.on('message', (message, isBinary) => {
    if (isBinary) {
      assertType<Equal<typeof message, Buffer>>()
    } else {
      assertType<Equal<typeof message, { type: 'say', text: string }>>()
    }
  })
})

// for await yields the same, as { data, isBinary }.
app.get('/iterate', { websocket: true, messageSchema: Say }, async (socket) => {
  for await (const { data } of socket) {
    assertType<Equal<typeof data, { type: 'say', text: string }>>()
  }
})

// Without a schema: Buffers, and sendJSON takes anything JSON.
app.get('/raw', { websocket: true }, (socket) => {
  assertType<Equal<typeof socket, WebSocket>>()
  socket.on('message', (data, isBinary) => {
    assertType<Equal<typeof data, Buffer>>()
    assertType<Equal<typeof isBinary, boolean>>()
  })
  socket.sendJSON({ anything: [1, 'two'] })
})

// With the default type provider a schema gives `unknown` (validated, but not typed).
const plain = Fastify()
await plain.register(websocket)
plain.get('/untyped', { websocket: true, messageSchema: { type: 'object' } }, (socket) => {
  socket.on('message', (data) => {
    assertType<Equal<typeof data, unknown>>()
  })
})
