/**
 * A GraphQL-subscriptions-style app written for @fastify/websocket (graphql-transport-ws
 * subprotocol chosen by default, authentication in `verifyClient`, `maxPayload`), run as it is
 * and with only its import changed, in CommonJS and in ESM (issue 10: mercurius's subscription
 * tests failed on both counts before).
 */
import t from 'tap'
import { output, passedTests, runMigrationApp } from './migration-app.js'

const EXPECTED = [
  'subscribes over graphql-transport-ws and receives published events',
  'a browser-style client offering two subprotocols gets the first one',
  'a client without the token is refused with 401 before the upgrade',
  'a client that offers only the legacy subprotocol is closed with 4406',
  'a message over maxPayload closes the connection with 1009'
]

for (const fixture of ['graphql-subscriptions.cjs', 'graphql-subscriptions.mjs']) {
  t.test(fixture, async (t) => {
    const { theirs, ours } = await runMigrationApp(t, fixture)
    t.equal(theirs.code, 0, 'the app\'s tests pass on @fastify/websocket', output(theirs))
    t.same(passedTests(theirs), EXPECTED, 'every test ran there')
    t.equal(ours.code, 0, 'and with only the import changed', output(ours))
    t.same(passedTests(ours), EXPECTED, 'every test ran here')
  })
}
