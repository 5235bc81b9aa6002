/**
 * Regression (issue 9, item 7): a header set by a hook that cannot go on the wire
 * (`reply.header('x', 'a\nb')`) threw after `reply.hijack()`: no 500 was sent and the client
 * hung until `handshakeTimeout`. The whole 101 is now built before the hijack.
 */
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'

t.test('a line break in a header value set by a hook: 500 with a reason, at once', async (t) => {
  const { port } = await buildApp(t, {
    plugin: { handshakeTimeout: 10_000 },
    setup (app) {
      app.addHook('preHandler', async (_request, reply) => {
        reply.header('x-trace', 'a\nb')
        reply.header('x-fine', 'ok')
      })
    }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  const started = Date.now()
  client.write(handshakeRequest({ path: '/echo' }))
  const response = await client.readResponse(3000)
  t.ok(Date.now() - started < 2000, 'answered at once, not after handshakeTimeout')
  t.equal(response.statusCode, 500)
  t.match(JSON.parse(response.body.toString()), { statusCode: 500, message: /x-trace/ }, 'the reason names the header')
  t.equal(response.headers['x-trace'], undefined, 'the bad header is not sent')
  await client.waitClosed()
})
