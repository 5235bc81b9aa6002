/**
 * The chat example as a fleet (issue 14): two instances on different ports, both with
 * REDIS_URL (a real redis-server started here) and the same COOKIE_SECRET, behave as one
 * chat: a user on one instance and a user on the other share the room.
 */
import t from 'tap'
import { launchBrowserForContexts } from '../helpers/browser.js'
import { startChatApp } from '../helpers/chat-app-process.js'
import { joinChat, say, waitForLine } from '../helpers/chat-page.js'
import { sample } from '../helpers/prometheus-text.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { sleep } from '../helpers/wait.js'

t.test('two instances sharing a Redis are one chat', async (t) => {
  const redis = await startRedisServer(t)
  const env = { REDIS_URL: redis.url, COOKIE_SECRET: 'one secret for the whole fleet, long enough' }
  const [first, second] = await Promise.all([startChatApp(t, { env }), startChatApp(t, { env })])
  t.not(first.port, second.port)
  const browser = await launchBrowserForContexts(t)
  const alice = await browser.newContext()
  const bob = await browser.newContext()
  const a = await joinChat(alice, `${first.url}#fleet`, 'alice')
  const b = await joinChat(bob, `${second.url}#fleet`, 'bob')

  // Both instances subscribed to the room's Redis channel (SUBSCRIBE is a round trip away).
  const deadline = Date.now() + 5000
  for (;;) {
    const reply = await redis.command('PUBSUB', 'NUMSUB', 'fws:room:fleet') as [string, number]
    if (reply[1] === 2) break
    if (Date.now() > deadline) throw new Error(`both instances did not subscribe: ${JSON.stringify(reply)}`)
    await sleep(20)
  }
  await waitForLine(a.page, 'bob joined') // published on the second instance, seen on the first
  await say(a.page, 'from the first instance ✓')
  await waitForLine(b.page, 'alice: from the first instance ✓')
  await say(b.page, 'from the second instance 日本')
  await waitForLine(a.page, 'bob: from the second instance 日本')

  for (const instance of [first, second]) {
    const text = await (await fetch(`${instance.url}metrics`)).text()
    t.equal(sample(text, 'websocket_adapter_up', { adapter: 'redis', state: 'ready' }), 1, `instance on ${instance.port}: the Redis adapter is ready`)
  }
  t.same([...a.pageErrors, ...b.pageErrors], [], 'no page errors')
})
