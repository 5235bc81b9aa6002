import type { Connection } from './connection.js'
import { PauseReason } from './read-flow.js'
import { ReadyState } from './ready-state.js'

export interface HeartbeatOptions {
  /** Ping a peer that has been silent this long (ms). `Infinity`: never ping. */
  pingInterval: number
  /** Terminate a pinged peer that sends nothing for this long (ms); 'close' reports 1006. */
  pongTimeout: number
  /** Close with 1001 after this long (ms) with no message either way. `Infinity`: off. */
  idleTimeout: number
}

interface Watch {
  receivedMark: number
  messageMark: number
  /** The transport's write backlog at the last tick, while reading waits for it to drain. */
  backlogMark: number
  /** Time (ms, in ticks) the peer has had to show a sign of life and has not. */
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
 *
 * A peer is never blamed for a frame we did not read. The clocks of a socket run only while
 * its connection reads; while reading is paused on our side (the app's `pause()`, a slow
 * `for await` loop, a handler not ready yet) they stand still, and a really dead peer is
 * caught within `pingInterval + pongTimeout` of reading time. While a server waits only for
 * its replies to drain, the sign of life is the peer taking them: a peer that takes nothing
 * for `pingInterval + pongTimeout` is terminated.
 */
export class HeartbeatScheduler {
  readonly options: Readonly<HeartbeatOptions>
  private readonly tick: number
  private readonly connections = new Map<Connection, Watch>()
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
    return this.connections.size
  }

  watch (connection: Connection): void {
    if (!this.active) return
    this.connections.set(connection, {
      receivedMark: connection.received,
      messageMark: connection.messages,
      backlogMark: Infinity,
      silentFor: 0,
      awaitingFor: -1,
      idleFor: 0
    })
    if (this.timer === undefined) {
      this.timer = setInterval(runScheduler, this.tick, this)
      this.timer.unref()
    }
  }

  unwatch (connection: Connection): void {
    if (!this.connections.delete(connection) || this.connections.size > 0 || this.timer === undefined) return
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** One tick for every watched socket. */
  run (): void {
    for (const [connection, watch] of this.connections) {
      if (connection.readyState !== ReadyState.OPEN) continue
      const reasons = connection.flow.reasons
      if (reasons === 0) this.checkReading(connection, watch)
      else if (reasons === PauseReason.WriteBacklog) this.checkDraining(connection, watch)
      // Otherwise we chose not to read: nothing the peer did or did not do can be judged.
    }
  }

  private checkReading (connection: Connection, watch: Watch): void {
    const { pingInterval, pongTimeout, idleTimeout } = this.options
    const tick = this.tick
    watch.backlogMark = Infinity
    if (connection.received !== watch.receivedMark) {
      watch.receivedMark = connection.received
      watch.silentFor = 0
      watch.awaitingFor = -1
    } else {
      watch.silentFor += tick
    }
    if (connection.messages !== watch.messageMark) {
      watch.messageMark = connection.messages
      watch.idleFor = 0
    } else {
      watch.idleFor += tick
      if (watch.idleFor >= idleTimeout) {
        connection.close(1001, 'idle timeout')
        return
      }
    }
    if (watch.awaitingFor >= 0) {
      watch.awaitingFor += tick
      // RFC 6455 §5.5.2 lets a ping go unanswered only by a peer that is gone.
      if (watch.awaitingFor >= pongTimeout) connection.terminate()
    } else if (watch.silentFor >= pingInterval) {
      watch.awaitingFor = 0
      connection.sendControl('ping', undefined, undefined)
    }
  }

  /** Reading waits for our replies to drain: the peer is alive while it takes them. */
  private checkDraining (connection: Connection, watch: Watch): void {
    const backlog = connection.stream.writableLength
    if (backlog < watch.backlogMark) {
      watch.silentFor = 0
      watch.awaitingFor = -1
    } else {
      watch.silentFor += this.tick
      if (watch.silentFor >= this.options.pingInterval + this.options.pongTimeout) connection.terminate()
    }
    watch.backlogMark = backlog
  }
}

function runScheduler (scheduler: HeartbeatScheduler): void {
  scheduler.run()
}
