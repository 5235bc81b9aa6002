/**
 * The chat page comes back after a server restart (issue 13): the app is stopped (SIGTERM, its
 * graceful shutdown closes the sockets with 1001) and started again on the same port; the
 * status goes to disconnected, the page retries with backoff while the server is down, then
 * shows connected again and messages flow. The app runs without COOKIE_SECRET, as `npm start`
 * does, so the restarted process no longer accepts the old cookie: the page signs in again
 * under the same name by itself.
 */
import t from 'tap'
import { launchBrowserForContexts } from '../helpers/browser.js'
import { startChatApp } from '../helpers/chat-app-process.js'
import { joinChat, say, waitForLine, waitForState } from '../helpers/chat-page.js'
import { until } from '../helpers/wait.js'

t.test('the page reconnects after the server restarts, and messages flow again', async (t) => {
  const chat = await startChatApp(t)
  t.ok(chat.logs.some((entry) => /COOKIE_SECRET is not set/.test(String(entry.msg))), 'the generated secret is logged as such')
  const browser = await launchBrowserForContexts(t)
  const alice = await browser.newContext()
  const bob = await browser.newContext()
  const a = await joinChat(alice, chat.url, 'alice')
  const b = await joinChat(bob, chat.url, 'bob')
  await say(a.page, 'before the restart')
  await waitForLine(b.page, 'alice: before the restart')

  t.equal(await chat.stop(), 0, 'the app shut down cleanly')
  await waitForState(a.page, 'disconnected')
  await waitForState(b.page, 'disconnected')
  t.equal(await a.page.getByTestId('send').isDisabled(), true, 'nothing can be sent while disconnected')
  // Let the page try (and fail) at least once while the server is down.
  await until(() => a.socketUrls.length >= 2, 5000, 'a retry while the server is down')
  const attemptsWhileDown = a.socketUrls.length - 1

  const restarted = await startChatApp(t, { port: chat.port })
  const restartedAt = Date.now()
  await waitForState(a.page, 'connected', 20_000)
  await waitForState(b.page, 'connected', 20_000)
  t.comment(`both pages connected again ${Date.now() - restartedAt} ms after the restart, alice after ${a.socketUrls.length - 1} retries`)
  t.ok(attemptsWhileDown <= 5, `backoff, not a busy loop: ${attemptsWhileDown} attempts while down`)
  t.ok(new Set(a.socketUrls).size === 1, 'every retry reuses the same URL')
  t.ok(restarted.logs.some((entry) => (entry.req as { method?: string, url?: string } | undefined)?.url === '/session' &&
    (entry.req as { method?: string }).method === 'POST'), 'the page signed in again with the new process (new secret)')

  await say(b.page, 'after the restart ✓')
  await waitForLine(a.page, 'bob: after the restart ✓')
  await say(a.page, 'welcome back')
  await waitForLine(b.page, 'alice: welcome back')
  t.same([...a.pageErrors, ...b.pageErrors], [], 'no page errors')
})
