/**
 * Regression: frames that came in the same packet as the upgrade request (the "head") were
 * parsed inside the WebSocket constructor, before the handler could listen: a close frame in
 * the head was echoed at once, and the handler's replies to the messages before it were then
 * refused (nothing may follow our close frame). The head's bytes are now read after the
 * handler ran, so its messages are answered before the close.
 */
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { OP, buildFrame, closeFrame } from '../helpers/frames.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'

t.test('messages in the upgrade head are answered before a close that follows them', async (t) => {
  const { port } = await buildApp(t)
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(Buffer.concat([
    handshakeRequest({ path: '/echo' }),
    buildFrame({ opcode: OP.TEXT, payload: 'in the head' }),
    buildFrame({ opcode: OP.BINARY, payload: Buffer.from([0, 1, 2]) }),
    closeFrame(1000, 'bye')
  ]))
  const response = await client.readResponse()
  t.equal(response.statusCode, 101)
  const close = await client.readClose()
  t.same(close.before.map((f) => [f.opcode, f.payload.toString('hex')]), [
    [OP.TEXT, Buffer.from('in the head').toString('hex')],
    [OP.BINARY, '000102']
  ], 'both messages echoed, in order, before the close')
  t.equal(close.code, 1000, 'then the close is answered')
  await client.waitClosed()
})
