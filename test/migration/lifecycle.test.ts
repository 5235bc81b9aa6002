/**
 * Apps written for @fastify/websocket that rely on its lifecycle and testing tools, run as they
 * are and with only the import changed (issue 10):
 *
 * - lifecycle.cjs: `preClose(done)` with `this` the instance, `errorHandler` for a peer's
 *   protocol error and for a throwing handler, `websocketServer`'s 'connection' event,
 *   `clients` and `close(callback)`, and a clashing `upgrade` listener;
 * - testing-and-docs.mjs (ESM): `injectWS` with an upgrade context and `onInit` / `onOpen`,
 *   a refused upgrade, a `wsHandler` route, @fastify/swagger hiding websocket-only routes.
 */
import t from 'tap'
import { output, runMigrationApp, summary } from './migration-app.js'

const FIXTURES: Array<[string, number]> = [
  ['lifecycle.cjs', 5],
  ['testing-and-docs.mjs', 4]
]

for (const [fixture, count] of FIXTURES) {
  t.test(fixture, async (t) => {
    const { theirs, ours } = await runMigrationApp(t, fixture)
    t.equal(theirs.code, 0, 'the app\'s tests pass on @fastify/websocket', output(theirs))
    t.match(summary(theirs), { tests: count, pass: count, fail: 0, skipped: 0, todo: 0 }, `all ${count} ran there`)
    t.equal(ours.code, 0, 'and with only the import changed', output(ours))
    t.match(summary(ours), { tests: count, pass: count, fail: 0, skipped: 0, todo: 0 }, `all ${count} ran here`)
  })
}
