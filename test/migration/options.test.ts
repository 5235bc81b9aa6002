/**
 * An app that configures `ws` through @fastify/websocket's `options` (maxPayload,
 * handleProtocols, verifyClient in both forms, autoPong, clientTracking, noServer refused) runs
 * as it is and with only its import changed (issue 10: `options` used to be silently ignored).
 */
import t from 'tap'
import { output, runMigrationApp, summary } from './migration-app.js'

t.test('options.cjs', async (t) => {
  const { theirs, ours } = await runMigrationApp(t, 'options.cjs')
  t.equal(theirs.code, 0, 'the app\'s tests pass on @fastify/websocket', output(theirs))
  t.equal(ours.code, 0, 'and with only the import changed', output(ours))
  t.match(summary(theirs), { tests: 8, pass: 8, fail: 0, skipped: 0, todo: 0 }, 'all eight ran there')
  t.match(summary(ours), { tests: 8, pass: 8, fail: 0, skipped: 0, todo: 0 }, 'all eight ran here')
})
