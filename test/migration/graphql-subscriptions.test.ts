/**
 * A GraphQL-subscriptions-style app written for @fastify/websocket (graphql-transport-ws
 * subprotocol chosen by default, authentication in `verifyClient`, `maxPayload`), run as it is
 * and with only its import changed, in CommonJS and in ESM (issue 10: mercurius's subscription
 * tests failed on both counts before).
 */
import t from 'tap'
import { output, runMigrationApp, summary } from './migration-app.js'

for (const fixture of ['graphql-subscriptions.cjs', 'graphql-subscriptions.mjs']) {
  t.test(fixture, async (t) => {
    const { theirs, ours } = await runMigrationApp(t, fixture)
    t.equal(theirs.code, 0, 'the app\'s tests pass on @fastify/websocket', output(theirs))
    t.match(summary(theirs), { tests: 5, pass: 5, fail: 0, skipped: 0, todo: 0 }, 'all five ran there')
    t.equal(ours.code, 0, 'and with only the import changed', output(ours))
    t.match(summary(ours), { tests: 5, pass: 5, fail: 0, skipped: 0, todo: 0 }, 'all five ran here')
  })
}
