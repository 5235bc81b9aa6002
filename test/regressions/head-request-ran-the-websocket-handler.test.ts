/**
 * Regression: a HEAD request to a websocket-only route ran the websocket handler. Fastify adds
 * a HEAD route for every GET route with the route's original handler, which for
 * `{ websocket: true }` is the websocket handler: it was called as (request, reply). HEAD now
 * gets the same 426 as GET, without a body.
 */
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { RawClient, plainRequest } from '../helpers/raw-client.js'

t.test('HEAD to a websocket-only route gets 426 and never runs the websocket handler', async (t) => {
  let called = false
  const { port } = await buildApp(t, {
    setup (app) {
      app.get('/only-ws', { websocket: true }, () => { called = true })
    }
  })
  const client = await RawClient.connect(port)
  t.teardown(() => client.destroy())
  client.write(plainRequest('HEAD', '/only-ws'))
  const response = await client.readResponse(undefined, { noBody: true })
  t.equal(response.statusCode, 426)
  t.equal(response.headers.upgrade, 'websocket')
  await client.waitClosed()
  t.equal(client.pending.length, 0, 'no body for HEAD')
  t.equal(called, false, 'the websocket handler did not run')
})
