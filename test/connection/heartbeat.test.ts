import t from 'tap'
import { HeartbeatScheduler, WebSocket } from '../../src/connection/index.js'
import { OP, clientFrame } from '../helpers/frames.js'
import { openPair, openRaw } from '../helpers/pair.js'
import { until, sleep } from '../helpers/wait.js'

function scheduler (pingInterval: number, pongTimeout: number, idleTimeout = Infinity): HeartbeatScheduler {
  return new HeartbeatScheduler({ pingInterval, pongTimeout, idleTimeout })
}

t.test('a silent peer is pinged; a peer that never answers is terminated with 1006', async (t) => {
  const heartbeat = scheduler(80, 80)
  const { socket, received, log } = openRaw(t, { heartbeat })
  await until(() => received.frames.some((f) => f.opcode === OP.PING), 1000, 'a ping')
  const pingedAt = Date.now()
  const [code] = await log.nth('close', 1, 2000) as [number]
  t.equal(code, 1006)
  t.equal(socket.readyState, WebSocket.CLOSED)
  t.ok(Date.now() - pingedAt < 500, 'terminated within the pong timeout (plus a tick)')
  t.equal(heartbeat.size, 0, 'unwatched once closed')
})

t.test('a peer that answers pings stays open', async (t) => {
  // A generous pong timeout: a loaded CI machine must not turn a slow pong into a failure.
  const heartbeat = scheduler(40, 300)
  const { server, serverLog } = openPair(t, { heartbeat })
  await sleep(400)
  t.ok(serverLog.count('pong') >= 2, `pinged repeatedly and answered (${serverLog.count('pong')} pongs)`)
  t.equal(server.readyState, WebSocket.OPEN)
})

t.test("a peer's own traffic keeps it alive: no pings are sent to a talkative peer", async (t) => {
  // The peer talks every 20 ms; silence would need 300 ms (margin for a loaded machine).
  const heartbeat = scheduler(300, 300)
  const { socket, peer, received } = openRaw(t, { heartbeat })
  const chatter = setInterval(() => peer.write(clientFrame(OP.PING, 'me')), 20)
  t.teardown(() => clearInterval(chatter))
  await sleep(900)
  t.equal(received.frames.filter((f) => f.opcode === OP.PING).length, 0, 'never pinged')
  t.equal(socket.readyState, WebSocket.OPEN)
})

t.test('idleTimeout closes with 1001 when no message flows; pings do not count, messages do', async (t) => {
  const heartbeat = scheduler(30, 1000, 250)
  const idle = openPair(t, { heartbeat })
  const busy = openPair(t, { heartbeat })
  const chatter = setInterval(() => busy.client.send('still here'), 50)
  t.teardown(() => clearInterval(chatter))
  const [code, reason] = await idle.clientLog.nth('close', 1, 2000) as [number, Buffer]
  t.equal(code, 1001)
  t.equal(reason.toString(), 'idle timeout')
  t.ok(idle.serverLog.count('pong') >= 1, 'the idle peer did answer pings')
  t.equal(busy.server.readyState, WebSocket.OPEN, 'the busy socket is still open')
})

t.test('one shared timer for many sockets, stopped when none is left', async (t) => {
  // The scheduler's timer is unref'd, so it is invisible to getActiveResourcesInfo(): count
  // the intervals it creates and clears instead.
  const realSet = globalThis.setInterval
  let created = 0
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => { created++; return realSet(...args) }) as typeof setInterval
  t.teardown(() => { globalThis.setInterval = realSet })
  const timerOf = (scheduler: HeartbeatScheduler): NodeJS.Timeout | undefined => (scheduler as unknown as { timer?: NodeJS.Timeout }).timer

  const heartbeat = scheduler(1000, 1000)
  const pairs = Array.from({ length: 100 }, () => openPair(t, { heartbeat }))
  t.equal(heartbeat.size, 100)
  t.equal(created, 1, 'one timer for 100 sockets')
  t.ok(timerOf(heartbeat) !== undefined)
  for (const { server } of pairs) server.terminate()
  await until(() => heartbeat.size === 0, 2000, 'all unwatched')
  t.equal(timerOf(heartbeat), undefined, 'the timer stops with the last socket')
  openPair(t, { heartbeat })
  t.equal(created, 2, 'and starts again with the next one')
})

t.test('pings and idle off: the scheduler watches nothing', async (t) => {
  const heartbeat = scheduler(Infinity, 1000, Infinity)
  openPair(t, { heartbeat })
  t.equal(heartbeat.active, false)
  t.equal(heartbeat.size, 0)
})
