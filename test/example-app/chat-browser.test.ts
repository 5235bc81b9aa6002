/**
 * The chat example (issue 13, and issue 14's /metrics) in a real browser: Debian's Chromium
 * driven by playwright-core, the app started as `npm start` starts it (a child process, the
 * package imported by name from dist/). One app and one browser for the file; every test
 * uses its own contexts (users) and rooms.
 */
import { createServer } from 'node:http'
import t from 'tap'
import { connect, WebSocketHandshakeError } from '../../src/index.js'
import { launchBrowserForContexts } from '../helpers/browser.js'
import { startChatApp } from '../helpers/chat-app-process.js'
import { joinChat, logLines, say, waitForLine } from '../helpers/chat-page.js'
import { PageSocket } from '../helpers/page-socket.js'
import { sample } from '../helpers/prometheus-text.js'
import { EVENTS, EventLog, until } from '../helpers/wait.js'

const chat = await startChatApp(t, { env: { COOKIE_SECRET: 'a test secret, long enough to sign cookies' } })
const browser = await launchBrowserForContexts(t)
const wsUrl = (room: string): string => `ws://127.0.0.1:${chat.port}/chat/${room}`

async function metrics (): Promise<string> {
  const response = await fetch(`${chat.url}metrics`)
  if (response.status !== 200) throw new Error(`GET /metrics: ${response.status}`)
  return await response.text()
}

t.test('two users (separate cookies) see each other in the room, non-ASCII included, as text', async (t) => {
  const alice = await browser.newContext()
  const bob = await browser.newContext()
  const a = await joinChat(alice, `${chat.url}#lobby`, 'alice')
  const b = await joinChat(bob, `${chat.url}#lobby`, 'bøb ✓')

  const cookieOf = async (context: typeof alice): Promise<{ value: string, httpOnly: boolean } | undefined> =>
    (await context.cookies()).find((cookie) => cookie.name === 'chat_name')
  const [aliceCookie, bobCookie] = [await cookieOf(alice), await cookieOf(bob)]
  t.ok(aliceCookie?.httpOnly === true && bobCookie?.httpOnly === true, 'each context has its own httpOnly session cookie')
  t.not(aliceCookie?.value, bobCookie?.value)

  await waitForLine(a.page, 'bøb ✓ joined')
  await say(a.page, 'héllo ✓ 日本')
  await waitForLine(b.page, 'alice: héllo ✓ 日本')
  await waitForLine(a.page, 'alice: héllo ✓ 日本')
  await say(b.page, 'こんにちは <b>alice</b> 🎉')
  const lines = await waitForLine(a.page, 'bøb ✓: こんにちは <b>alice</b> 🎉')
  t.equal(await a.page.getByTestId('log').locator('b').count(), 0, 'markup in a message stays text')
  t.ok(lines.indexOf('alice: héllo ✓ 日本') < lines.indexOf('bøb ✓: こんにちは <b>alice</b> 🎉'), 'in order')
  t.equal(await a.page.getByTestId('log').evaluate((log) => log.tagName), 'OL', 'the log is not a textarea')

  await b.page.close()
  await waitForLine(a.page, 'bøb ✓ left')
  t.same([...a.pageErrors, ...b.pageErrors], [], 'no page errors')
  await alice.close()
  await bob.close()
})

t.test('rooms are separate: #kitchen does not hear #lobby', async (t) => {
  const alice = await browser.newContext()
  const carol = await browser.newContext()
  const a = await joinChat(alice, `${chat.url}#lobby`, 'alice')
  const c = await joinChat(carol, `${chat.url}#kitchen`, 'carol')
  t.same(c.socketUrls, [wsUrl('kitchen')], 'the room comes from the URL hash')
  await say(a.page, 'only for the lobby')
  await waitForLine(a.page, 'alice: only for the lobby')
  await say(c.page, 'only for the kitchen')
  await waitForLine(c.page, 'carol: only for the kitchen')
  // The kitchen message went out after the lobby one: had the lobby's reached carol, it would be there.
  t.notOk((await logLines(c.page)).includes('alice: only for the lobby'))
  t.notOk((await logLines(a.page)).some((line) => line.startsWith('carol')), 'alice hears nothing of the kitchen, not even joins')

  // Following a link to #kitchen moves alice there; the old socket's close does not show.
  await a.page.evaluate(`globalThis.statesSeen = []
    new MutationObserver(() => globalThis.statesSeen.push(document.querySelector('[data-testid="status"]').dataset.state))
      .observe(document.querySelector('[data-testid="status"]'), { attributes: true, attributeFilter: ['data-state'] })
    location.hash = '#kitchen'`)
  await until(() => a.socketUrls.length === 2, 5000, 'the socket to #kitchen')
  t.equal(a.socketUrls[1], wsUrl('kitchen'))
  await waitForLine(c.page, 'alice joined')
  await say(a.page, 'moved to the kitchen')
  await waitForLine(c.page, 'alice: moved to the kitchen')
  t.same(await a.page.evaluate('globalThis.statesSeen'), ['connecting', 'connected'], 'the move shows connecting, then connected, and nothing of the old socket')
  t.same([...a.pageErrors, ...c.pageErrors], [], 'no page errors')
  await alice.close()
  await carol.close()
})

t.test('the WebSocket URL the page opens carries no token: it can be reused with the same cookie', async (t) => {
  const alice = await browser.newContext()
  const a = await joinChat(alice, chat.url, 'alice')
  t.same(a.socketUrls, [wsUrl('lobby')], 'default room lobby; no query string, no token')
  const first = await PageSocket.open(a.page, a.socketUrls[0])
  const second = await PageSocket.open(a.page, a.socketUrls[0])
  await first.waitFor((s) => s.opened, 'the first reuse to open')
  await second.waitFor((s) => s.opened, 'the second reuse to open')
  await first.send(JSON.stringify({ type: 'say', text: 'twice' }))
  for (const socket of [first, second]) {
    const { received } = await socket.waitFor((s) => s.received.some((m) => JSON.parse(m).type === 'said'), 'the said message')
    const said = JSON.parse(received.find((m) => JSON.parse(m).type === 'said') as string)
    t.match(said, { type: 'said', from: 'alice', text: 'twice', at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ })
    t.same(Object.keys(said).sort(), ['at', 'from', 'text', 'type'], 'exactly the pinned fields')
  }
  await waitForLine(a.page, 'alice: twice')
  await alice.close()
})

t.test('a message that breaks the schema closes with 1007, even as the first message; binary with 1003', async (t) => {
  const alice = await browser.newContext()
  const bob = await browser.newContext()
  const a = await joinChat(alice, `${chat.url}#schema`, 'alice')
  const b = await joinChat(bob, `${chat.url}#schema`, 'bob')
  const cases: Array<[string, string | number[], number, RegExp]> = [
    ['empty text', JSON.stringify({ type: 'say', text: '' }), 1007, /^invalid message: \/text must NOT have fewer than 1 characters$/],
    ['text over 2000 characters', JSON.stringify({ type: 'say', text: '日'.repeat(2001) }), 1007, /\/text must NOT have more than 2000 characters/],
    ['an unknown type', JSON.stringify({ type: 'shout', text: 'sneaky 1' }), 1007, /^invalid message: \/type/],
    ['an extra field', JSON.stringify({ type: 'say', text: 'sneaky 2', as: 'bob' }), 1007, /^invalid message: /],
    ['not JSON', 'say sneaky 3', 1007, /^invalid message: not JSON$/],
    ['binary', [1, 2, 3], 1003, /binary/]
  ]
  for (const [name, payload, code, reason] of cases) {
    const socket = await PageSocket.open(a.page, wsUrl('schema'))
    await socket.waitFor((s) => s.opened, `${name}: open`)
    await socket.send(payload)
    const { close } = await socket.waitFor((s) => s.close !== null, `${name}: the close`)
    t.match(close, { code, reason, wasClean: true }, `${name}: ${code}`)
  }
  // Nothing of it reached the room: the next valid message arrives with nothing sneaky before it.
  await say(a.page, 'after the invalid ones')
  const lines = await waitForLine(b.page, 'alice: after the invalid ones')
  t.notOk(lines.some((line) => line.includes('sneaky')), 'no invalid message was published')
  await alice.close()
  await bob.close()
})

t.test("a page from another origin cannot connect: HTTP 403 before any upgrade, even with the user's cookie", async (t) => {
  const otherSite = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html')
    response.end('<!doctype html><title>another site</title><p>not the chat</p>')
  })
  await new Promise<void>((resolve) => otherSite.listen(0, '127.0.0.1', resolve))
  t.teardown(() => otherSite.close())
  const otherOrigin = `http://127.0.0.1:${(otherSite.address() as { port: number }).port}`

  // The user is signed in to the chat; the other site is same-site (same host, another port),
  // so the SameSite cookie rides along: only the Origin check stands in the way.
  const alice = await browser.newContext()
  const a = await joinChat(alice, chat.url, 'alice')
  await a.page.close()
  const before = await metrics()

  const page = await alice.newPage()
  const handshakeErrors: string[] = []
  const framesReceived: unknown[] = []
  page.on('websocket', (socket) => {
    socket.on('socketerror', (error) => handshakeErrors.push(error))
    socket.on('framereceived', (frame) => framesReceived.push(frame.payload))
  })
  await page.goto(`${otherOrigin}/`)
  const socket = await PageSocket.open(page, wsUrl('lobby'))
  const { opened, close } = await socket.waitFor((s) => s.close !== null, 'the refused socket to close')
  t.equal(opened, false, 'never opened')
  t.match(close, { code: 1006, wasClean: false })
  t.same(handshakeErrors, ['Error during WebSocket handshake: Unexpected response code: 403'], 'Chromium saw an HTTP 403, not a 101')
  t.same(framesReceived, [], 'not a frame')

  const after = await metrics()
  t.equal(sample(after, 'websocket_handshakes_refused_total', { status: '403' }) - sample(before, 'websocket_handshakes_refused_total', { status: '403' }), 1, 'the server counted one 403')
  t.equal(sample(after, 'websocket_connections_opened_total'), sample(before, 'websocket_connections_opened_total'), 'and opened no connection')
  await alice.close()
})

t.test("the page's own origin is whatever name it was opened under (localhost too)", async (t) => {
  const dana = await browser.newContext()
  const d = await joinChat(dana, `http://localhost:${chat.port}/`, 'dana')
  t.same(d.socketUrls, [`ws://localhost:${chat.port}/chat/lobby`])
  await say(d.page, 'from localhost')
  await waitForLine(d.page, 'dana: from localhost')
  await dana.close()
})

t.test('401 without the session cookie, in the browser and from Node', async (t) => {
  const stranger = await browser.newContext()
  const page = await stranger.newPage()
  const handshakeErrors: string[] = []
  page.on('websocket', (socket) => socket.on('socketerror', (error) => handshakeErrors.push(error)))
  await page.goto(chat.url)
  const before = await metrics()
  const socket = await PageSocket.open(page, wsUrl('lobby'))
  t.match((await socket.waitFor((s) => s.close !== null, 'the refused socket to close')), { opened: false, close: { code: 1006 } })
  // Chromium words a 401 to a WebSocket handshake this way (it has no credentials to retry with).
  t.same(handshakeErrors, ['HTTP Authentication failed; no valid credentials available'])
  const after = await metrics()
  t.equal(sample(after, 'websocket_handshakes_refused_total', { status: '401' }) - sample(before, 'websocket_handshakes_refused_total', { status: '401' }), 1, 'the server answered 401')
  await stranger.close()

  const refused = await connect(wsUrl('lobby')).then(() => undefined, (error: unknown) => error)
  t.ok(refused instanceof WebSocketHandshakeError)
  t.match(refused, { statusCode: 401 })
  const forged = await connect(wsUrl('lobby'), { headers: { cookie: 'chat_name=mallory.forged-signature' } }).then(() => undefined, (error: unknown) => error)
  t.match(forged, { statusCode: 401 }, 'a cookie with a bad signature is no session')
})

/**
 * Runs the page's ReconnectingSocket in the browser against a scripted fake WebSocket and a
 * fake clock (setTimeout runs its callback at once and advances Date.now by its delay); returns
 * each retry delay, what beforeRetry was told, and the states shown. Plan steps: 'fail' (closed
 * with `code` before opening), 'drop' (opens, then closes with `code` after `openMs`).
 */
const BACKOFF_PROBE = `async (plan) => {
  const { ReconnectingSocket, BACKOFF } = await import('/reconnecting-socket.js')
  const saved = { setTimeout: window.setTimeout, WebSocket: window.WebSocket, now: Date.now }
  let clock = 0
  const delays = []
  const handshakeFailed = []
  const states = []
  let finish
  const finished = new Promise((resolve) => { finish = resolve })
  class FakeSocket extends EventTarget {
    static OPEN = 1
    readyState = 0
    constructor () {
      super()
      const step = plan.shift()
      if (step === undefined) { finish(); return }
      Promise.resolve().then(() => {
        if (step.kind === 'drop') {
          this.readyState = 1
          this.dispatchEvent(new Event('open'))
          clock += step.openMs
        }
        this.readyState = 3
        const close = new Event('close')
        Object.assign(close, { code: step.code, reason: '' })
        this.dispatchEvent(close)
        if (plan.length === 0) saved.setTimeout.call(window, finish, 50)
      })
    }
    send () {}
    close () {}
  }
  try {
    window.WebSocket = FakeSocket
    window.setTimeout = (callback, ms) => { delays.push(ms); clock += ms; Promise.resolve().then(callback); return 0 }
    Date.now = () => clock
    const socket = new ReconnectingSocket('ws://example.invalid/chat/lobby', {
      onMessage () {},
      onState (state, detail) { states.push(state + (detail === '' ? '' : ': ' + detail)) },
      async beforeRetry (failed) { handshakeFailed.push(failed) }
    })
    await finished
    socket.stop()
  } finally {
    window.WebSocket = saved.WebSocket
    window.setTimeout = saved.setTimeout
    Date.now = saved.now
  }
  return { backoff: { ...BACKOFF }, delays, handshakeFailed, states }
}`

t.test('the page reconnects with capped exponential backoff and jitter (its module, in the browser)', async (t) => {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(chat.url)
  const plan = [
    ...Array.from({ length: 8 }, () => ({ kind: 'fail', code: 1006 })), // the server is down
    { kind: 'drop', code: 1001, openMs: 6000 }, // back for a while (stable), then restarting
    { kind: 'drop', code: 1006, openMs: 100 }, // accepts, then drops at once
    { kind: 'fail', code: 1006 },
    { kind: 'fail', code: 1008 } // refused by policy: retrying would repeat it
  ]
  const result = await page.evaluate(`(${BACKOFF_PROBE})(${JSON.stringify(plan)})`) as {
    backoff: { initialDelayMs: number, maxDelayMs: number, stableMs: number }, delays: number[], handshakeFailed: boolean[], states: string[]
  }
  t.same(result.backoff, { initialDelayMs: 500, maxDelayMs: 10_000, stableMs: 5_000 })
  // Retry n waits between half and all of min(10 s, 0.5 s × 2ⁿ); n starts again after a stable connection.
  const attempts = [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2]
  t.equal(result.delays.length, attempts.length, 'a retry after each drop, none after 1008')
  result.delays.forEach((delay, i) => {
    const ceiling = Math.min(10_000, 500 * 2 ** attempts[i])
    t.ok(delay >= ceiling / 2 && delay <= ceiling, `retry ${i + 1}: ${delay} ms within [${ceiling / 2}, ${ceiling}]`)
  })
  t.ok(new Set(result.delays.slice(5, 8)).size > 1, `jittered: the capped delays differ (${result.delays.slice(5, 8).join(', ')})`)
  t.same(result.handshakeFailed, [true, true, true, true, true, true, true, true, false, false, true], 'beforeRetry knows whether the handshake itself failed')
  t.match(result.states.at(-1), /^disconnected: closed by the server: 1008/, 'a policy close is final, and says so')
  t.ok(result.states.includes('connected'), 'the state is shown')
  await context.close()
})

t.test('/metrics counts what happened (from the diagnostics channels and stats())', async (t) => {
  // A room of its own, so the browsers of other tests receive nothing of this.
  const session = await fetch(`${chat.url}session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'metrics' }) })
  t.equal(session.status, 200)
  const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]
  const before = await metrics()

  const client = await connect(wsUrl('metrics-room'), { headers: { cookie } })
  const log = new EventLog(client, EVENTS)
  const sent = [JSON.stringify({ type: 'say', text: 'one' }), JSON.stringify({ type: 'say', text: 'twö' })]
  await log.nth('message', 1) // joined
  const during = await metrics()
  t.equal(sample(during, 'websocket_open_connections', { route: '/chat/:room' }) - sample(before, 'websocket_open_connections', { route: '/chat/:room' }), 1, 'open connections gauge (stats())')
  t.equal(sample(during, 'websocket_topics') - sample(before, 'websocket_topics'), 1, 'topics gauge (stats()): room:metrics-room')
  for (const text of sent) client.send(text)
  await log.nth('message', 3)
  const received = log.events.filter(([event]) => event === 'message').map(([, data]) => (data as Buffer).length)
  client.close(1000)
  await log.nth('close')
  const refused = await connect(wsUrl('metrics-room'), { headers: { origin: 'https://evil.example', cookie } }).then(() => undefined, (error: unknown) => error)
  t.match(refused, { statusCode: 403 })
  await connect(wsUrl('metrics-room')).catch(() => {})

  const deadline = Date.now() + 5000
  let after = await metrics()
  while (sample(after, 'websocket_connections_closed_total', { code: '1000' }) === sample(before, 'websocket_connections_closed_total', { code: '1000' }) && Date.now() < deadline) {
    after = await metrics()
  }
  const delta = (name: string, labels: Record<string, string> = {}): number => sample(after, name, labels) - sample(before, name, labels)
  const route = { route: '/chat/:room' }
  t.equal(delta('websocket_connections_opened_total', route), 1, 'opened')
  t.equal(delta('websocket_messages_received_total', route), 2, 'messages in')
  t.equal(delta('websocket_received_bytes_total', route), Buffer.byteLength(sent.join('')), 'bytes in')
  t.equal(delta('websocket_messages_sent_total', route), 3, 'messages out: joined, and the two said')
  t.equal(delta('websocket_sent_bytes_total', route), received.reduce((sum, n) => sum + n, 0), 'bytes out')
  t.equal(delta('websocket_connections_closed_total', { ...route, code: '1000', initiator: 'client' }), 1, 'closes by code')
  t.equal(delta('websocket_connection_duration_seconds_count', route), 1, 'durations')
  t.equal(delta('websocket_handshakes_refused_total', { status: '403' }), 1, 'refused by status: 403')
  t.equal(delta('websocket_handshakes_refused_total', { status: '401' }), 1, 'refused by status: 401')
  t.equal(sample(after, 'websocket_adapter_up', { adapter: 'memory', state: 'ready' }), 1, 'adapter state (stats())')
})
