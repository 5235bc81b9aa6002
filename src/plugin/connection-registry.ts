import { CloseCode } from '../protocol/index.js'
import { ReadyState, type WebSocket } from '../connection/index.js'

/**
 * The live sockets of one Fastify instance, across all routes: what `websocketServer.clients`
 * shows, what `stats()` counts per route, and what `app.close()` shuts down.
 */
export class ConnectionRegistry {
  /** Open and closing sockets; a socket leaves when its transport has closed. */
  readonly clients = new Set<WebSocket>()
  /** Live sockets per route URL pattern. */
  readonly perRoute = new Map<string, number>()
  /** One removal function per route, shared by its sockets (no closure per connection). */
  private readonly removers = new Map<string, (socket: WebSocket) => void>()
  private emptyWaiters: Array<() => void> = []

  /** Adds a socket of `route` (its connection calls `removerFor(route)` once it has closed). */
  add (socket: WebSocket, route: string): void {
    this.clients.add(socket)
    this.perRoute.set(route, (this.perRoute.get(route) ?? 0) + 1)
  }

  /**
   * The function a connection of `route` calls once its transport has closed (not subject to
   * event holding). One per route, shared by its sockets: no closure per connection.
   */
  removerFor (route: string): (socket: WebSocket) => void {
    let remove = this.removers.get(route)
    if (remove === undefined) {
      remove = (closed) => this.remove(closed, route)
      this.removers.set(route, remove)
    }
    return remove
  }

  private remove (socket: WebSocket, route: string): void {
    if (!this.clients.delete(socket)) return
    const left = (this.perRoute.get(route) as number) - 1
    if (left === 0) this.perRoute.delete(route)
    else this.perRoute.set(route, left)
    if (this.clients.size > 0) return
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
