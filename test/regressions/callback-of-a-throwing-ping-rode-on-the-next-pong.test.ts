/**
 * Regression: `ping()` or `pong()` with an oversized payload threw a RangeError, but only after
 * storing its callback, which then rode on the next frame the socket wrote (the automatic pong
 * to the peer's ping) and was called for a frame it never asked for.
 */
import t from 'tap'
import { openPair } from '../helpers/pair.js'
import { turn } from '../helpers/wait.js'

t.test('a ping that throws does not leave its callback for the next frame', async (t) => {
  const { client, server, serverLog, clientLog } = openPair(t)
  let called = 0
  t.throws(() => client.ping(Buffer.alloc(126), undefined, () => { called++ }), RangeError)
  t.throws(() => client.pong(Buffer.alloc(126), () => { called++ }), RangeError)
  // The automatic pong to the server's ping is the next frame the client writes.
  server.ping('p')
  await clientLog.nth('ping')
  await serverLog.nth('pong')
  await turn()
  t.equal(called, 0, 'the callbacks of calls that threw are never called')
  client.send('next')
  await serverLog.nth('message')
  await turn()
  t.equal(called, 0, 'nor by a later send')
})
