import type { WebSocket } from './websocket.js'

/**
 * Counters a WebSocket bumps as traffic flows; the scheduler compares them between ticks, so
 * the per-chunk cost of liveness tracking is one integer increment.
 */
export interface ActivityCounters {
  /** Chunks received from the peer (any frame proves it is alive). */
  received: number
  /** Data messages received or sent (what `idleTimeout` watches). */
  messages: number
}

export interface HeartbeatOptions {
  /** Ping a peer that has been silent this long (ms). `Infinity`: never ping. */
  pingInterval: number
  /** Terminate a pinged peer that sends nothing for this long (ms); 'close' reports 1006. */
  pongTimeout: number
  /** Close with 1001 after this long (ms) with no message either way. `Infinity`: off. */
  idleTimeout: number
}

interface Watch {
  counters: ActivityCounters
  receivedMark: number
  messageMark: number
  /** Time (ms, in ticks) since the peer last sent anything. */
  silentFor: number
  /** Time since our ping, or -1 when no ping is outstanding. */
  awaitingFor: number
  /** Time since the last message either way. */
  idleFor: number
}

/** Ticks are a fraction of the shortest interval: liveness is judged within that error. */
const TICKS_PER_INTERVAL = 4
const MIN_TICK = 10

/**
 * Dead-peer detection and idle timeouts for many sockets on one shared timer (not one per
 * socket: per-connection memory and timer churn matter at 10 000 connections). The timer
 * runs only while at least one socket is watched, and never keeps the process alive.
 */
export class HeartbeatScheduler {
  readonly options: Readonly<HeartbeatOptions>
  private readonly tick: number
  private readonly sockets = new Map<WebSocket, Watch>()
  private timer: NodeJS.Timeout | undefined

  constructor (options: HeartbeatOptions) {
    this.options = Object.freeze({ ...options })
    const finite = [options.pingInterval, options.pongTimeout, options.idleTimeout].filter(Number.isFinite)
    this.tick = Math.max(MIN_TICK, Math.floor(Math.min(...finite, 60_000) / TICKS_PER_INTERVAL))
  }

  /** Whether this scheduler would ever act (otherwise sockets need not be watched). */
  get active (): boolean {
    return Number.isFinite(this.options.pingInterval) || Number.isFinite(this.options.idleTimeout)
  }

  /** Number of sockets watched. */
  get size (): number {
    return this.sockets.size
  }

  watch (socket: WebSocket, counters: ActivityCounters): void {
    if (!this.active) return
    this.sockets.set(socket, {
      counters,
      receivedMark: counters.received,
      messageMark: counters.messages,
      silentFor: 0,
      awaitingFor: -1,
      idleFor: 0
    })
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.run(), this.tick)
      this.timer.unref()
    }
  }

  unwatch (socket: WebSocket): void {
    if (!this.sockets.delete(socket) || this.sockets.size > 0 || this.timer === undefined) return
    clearInterval(this.timer)
    this.timer = undefined
  }

  private run (): void {
    const { pingInterval, pongTimeout, idleTimeout } = this.options
    const tick = this.tick
    for (const [socket, watch] of this.sockets) {
      if (socket.readyState !== socket.OPEN) continue
      const { counters } = watch
      if (counters.received !== watch.receivedMark) {
        watch.receivedMark = counters.received
        watch.silentFor = 0
        watch.awaitingFor = -1
      } else {
        watch.silentFor += tick
      }
      if (counters.messages !== watch.messageMark) {
        watch.messageMark = counters.messages
        watch.idleFor = 0
      } else {
        watch.idleFor += tick
        if (watch.idleFor >= idleTimeout) {
          socket.close(1001, 'idle timeout')
          continue
        }
      }
      if (watch.awaitingFor >= 0) {
        watch.awaitingFor += tick
        // RFC 6455 §5.5.2 lets a ping go unanswered only by a peer that is gone.
        if (watch.awaitingFor >= pongTimeout) socket.terminate()
      } else if (watch.silentFor >= pingInterval) {
        watch.awaitingFor = 0
        socket.ping()
      }
    }
  }
}
