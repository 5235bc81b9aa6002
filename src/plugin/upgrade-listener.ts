import { ServerResponse, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { destroyWhenFlushed, writeHttpErrorAndClose } from './http-error-response.js'
import type { PluginState } from './plugin-state.js'
import { recordRefusal } from './server-stats.js'

/**
 * The server's 'upgrade' listener. It claims an upgrade when its path is a websocket route's
 * (or when no other upgrade listener exists, so unknown paths get Fastify's 404), then hands
 * the request to Fastify's router with a response bound to the raw socket: routing, 404s and
 * the onRequest / preValidation / preHandler hooks all run before any upgrade, and a hook's
 * reply (401, say) goes out as a normal HTTP response.
 */
export function createUpgradeListener (fastify: FastifyInstance, state: PluginState) {
  return function onUpgrade (request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const route = state.routes.match(request.url)
    if (route === undefined && fastify.server.listenerCount('upgrade') > 1) {
      // Another listener owns this upgrade, and its own timing.
      state.handshakeTimeouts.stop(socket)
      return
    }
    // Another 'upgrade' listener ran first and answered (it destroyed or ended the socket):
    // the socket is not ours to answer. @fastify/websocket logs such a clash and carries on,
    // and so do we (one that gave the socket a response of its own is caught below).
    if (isTakenByAnotherListener(socket)) {
      fastify.log.warn({ url: request.url }, 'websocket upgrade skipped: another upgrade listener already answered this request')
      state.handshakeTimeouts.stop(socket)
      return
    }
    // Runs until the upgrade is answered (a keep-alive connection may not have a clock yet).
    state.handshakeTimeouts.start(socket)

    // Node removed its HTTP error handling from this socket: without a listener, a client
    // that resets the connection mid-handshake would crash the process.
    socket.on('error', destroyOnUpgradeError)

    if (state.refusing !== undefined) {
      recordRefusal(state, 503, request.url)
      writeHttpErrorAndClose(socket, 503, state.refusing)
      return
    }
    // §4.2.1 item 1: only GET can open a WebSocket. Checked here because a request of another
    // method would not reach the websocket route at all.
    if (request.method !== 'GET') {
      recordRefusal(state, 400, request.url)
      writeHttpErrorAndClose(socket, 400, 'WebSocket handshake must use GET')
      return
    }

    // The Origin policy runs before routing and hooks (RFC 6455 §10.2): a page on another
    // site learns nothing, and no hook or handler runs for it.
    const originCheck = route?.originCheck
    if (originCheck === undefined) return routeUpgrade(fastify, state, request, socket, head)
    let verdict: ReturnType<typeof originCheck>
    try {
      verdict = originCheck(request)
    } catch (error) {
      return originCheckFailed(fastify, state, request, socket, error)
    }
    if (verdict === true) return routeUpgrade(fastify, state, request, socket, head)
    if (typeof verdict === 'string') return refuseOrigin(state, request, socket, verdict)
    verdict.then((late) => {
      if (late === true) routeUpgrade(fastify, state, request, socket, head)
      else refuseOrigin(state, request, socket, late)
    }, (error: unknown) => originCheckFailed(fastify, state, request, socket, error))
  }
}

/** 403: the page's origin is not one this route accepts. */
function refuseOrigin (state: PluginState, request: IncomingMessage, socket: Duplex, reason: string): void {
  recordRefusal(state, 403, request.url)
  writeHttpErrorAndClose(socket, 403, reason)
}

/** An `allowedOrigins` function threw or rejected: a server bug, so 500, logged. */
function originCheckFailed (fastify: FastifyInstance, state: PluginState, request: IncomingMessage, socket: Duplex, error: unknown): void {
  fastify.log.error({ err: error, url: request.url }, 'websocket upgrade: the allowedOrigins function failed')
  recordRefusal(state, 500, request.url)
  writeHttpErrorAndClose(socket, 500, 'the origin check failed')
}

/** Hands the upgrade to Fastify's router, with a response bound to the raw socket. */
function routeUpgrade (fastify: FastifyInstance, state: PluginState, request: IncomingMessage, socket: Duplex, head: Buffer): void {
  // The client may have left while an async origin check ran.
  if (socket.destroyed) return
  const response = new ServerResponse(request)
  response.shouldKeepAlive = false
  try {
    response.assignSocket(socket as Socket)
  } catch (error) {
    // ERR_HTTP_SOCKET_ASSIGNED: an earlier listener gave the socket a response of its own
    // and answers on it. Thrown out of the server's 'upgrade' event, it would be an uncaught
    // exception that ends the process.
    fastify.log.warn({ err: error, url: request.url }, 'websocket upgrade failed: another upgrade listener already answers this request')
    return
  }
  state.upgrades.set(request, { socket, head })
  // A refused upgrade (hook reply, 404, bad handshake) ends here: close the socket. Node's
  // HTTP server ends the socket after a `Connection: close` response itself, but this
  // response is ours, not the server's: without the `end()` the socket never finishes,
  // stays open, and `app.close()` waits for it forever.
  response.once('finish', () => {
    recordRefusal(state, response.statusCode, request.url)
    response.detachSocket(socket as Socket)
    socket.end()
    destroyWhenFlushed(socket)
  })
  fastify.routing(request, response)
}

/** Whether an earlier 'upgrade' listener has already answered on this socket and let it go. */
function isTakenByAnotherListener (socket: Duplex): boolean {
  return socket.destroyed || socket.writableEnded
}

/** The upgrading socket's error listener until a connection takes it over (one function for all). */
export function destroyOnUpgradeError (this: Duplex): void {
  this.destroy()
}
