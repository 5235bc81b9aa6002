import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

/**
 * Bounds the time from a new connection to a finished WebSocket handshake (`handshakeTimeout`).
 *
 * A client that opens TCP and sends its request one byte per second would otherwise hold a
 * socket for as long as Node's `headersTimeout` (60 s, checked every 30 s), and one whose
 * upgrade waits in a hook that never finishes, forever. The clock starts when the connection
 * is accepted and stops at the first plain HTTP request on it (Fastify's own timeouts take
 * over), when an upgrade is answered (101 or an error), or when the socket closes. When it
 * runs out, the socket is destroyed.
 */
export class HandshakeTimeouts {
  private readonly timeout: number
  private readonly timers = new WeakMap<Duplex, NodeJS.Timeout>()
  /** One listener function for every socket, rather than a closure each. */
  private readonly stopOnClose: (this: Duplex) => void

  constructor (timeout: number) {
    this.timeout = timeout
    const timeouts = this
    this.stopOnClose = function (this: Duplex) { timeouts.stop(this) }
  }

  /** Starts the clock for `socket` unless it is already running (or the limit is Infinity). */
  start (socket: Duplex): void {
    if (this.timeout === Infinity || this.timers.has(socket) || socket.destroyed) return
    const timer = setTimeout(() => {
      this.timers.delete(socket)
      socket.destroy()
    }, this.timeout)
    timer.unref()
    this.timers.set(socket, timer)
    socket.once('close', this.stopOnClose)
  }

  /** Stops the clock for `socket`, if running. */
  stop (socket: Duplex): void {
    const timer = this.timers.get(socket)
    if (timer === undefined) return
    clearTimeout(timer)
    this.timers.delete(socket)
    // An accepted socket lives on for hours: it must not keep this listener (and the wrapper
    // `once` made for it) all that time.
    socket.removeListener('close', this.stopOnClose)
  }

  /**
   * Wires the clock to a server: started for each accepted connection (after TLS, for
   * HTTPS), stopped by its first plain request. Returns a function that unwires it.
   */
  attach (server: HttpServer): () => void {
    if (this.timeout === Infinity) return () => {}
    const connectionEvent = typeof (server as { setSecureContext?: unknown }).setSecureContext === 'function'
      ? 'secureConnection'
      : 'connection'
    const onConnection = (socket: Duplex): void => this.start(socket)
    const onRequest = (request: IncomingMessage): void => this.stop(request.socket)
    server.on(connectionEvent, onConnection)
    server.on('request', onRequest)
    return () => {
      server.removeListener(connectionEvent, onConnection)
      server.removeListener('request', onRequest)
    }
  }
}
