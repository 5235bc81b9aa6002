import { CloseCode } from '../protocol/index.js'
import { ReadyState, type WebSocket } from '../connection/index.js'

/**
 * The live sockets of one Fastify instance, across all routes: what `websocketServer.clients`
 * shows and what `app.close()` shuts down.
 */
export class ConnectionRegistry {
  /** Open and closing sockets; a socket leaves when its transport has closed. */
  readonly clients = new Set<WebSocket>()
  private emptyWaiters: Array<() => void> = []

  add (socket: WebSocket): void {
    this.clients.add(socket)
  }

  /**
   * Called by the socket when its transport closed (not subject to event holding). A bound
   * property, so every socket shares this one function instead of a closure each.
   */
  readonly remove = (socket: WebSocket): void => {
    if (!this.clients.delete(socket) || this.clients.size > 0) return
    const waiters = this.emptyWaiters
    this.emptyWaiters = []
    for (const resolve of waiters) resolve()
  }

  /**
   * Starts the closing handshake on every open socket with 1001 (going away) and resolves
   * when all are closed. Each socket's close timeout destroys those whose peer does not answer,
   * so this finishes within the longest close timeout.
   */
  async closeAll (reason = 'server shutting down'): Promise<void> {
    const done = this.whenEmpty()
    for (const socket of this.clients) {
      if (socket.readyState === ReadyState.OPEN) socket.close(CloseCode.GoingAway, reason)
    }
    await done
  }

  /** Resolves once no socket is left (at once if there is none). */
  async whenEmpty (): Promise<void> {
    if (this.clients.size === 0) return
    await new Promise<void>((resolve) => this.emptyWaiters.push(resolve))
  }
}
