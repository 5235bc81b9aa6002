import type { Duplex } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { WebSocket } from '../connection/index.js'
import type { PluginState } from './plugin-state.js'

/**
 * Everything that happens to a socket between its 101 and its handler: it joins
 * `websocketServer.clients`, a custom `errorHandler` starts receiving its socket-level errors,
 * and `websocketServer` emits 'connection'.
 *
 * Socket-level errors, as @fastify/websocket 11.3 sends them to its `errorHandler`: the
 * socket's 'error' (the peer broke the protocol: a `WebSocketProtocolError` such as
 * `WS_ERR_UNEXPECTED_RSV_2_3`; the socket is already closing with the matching close code)
 * and, beyond what `ws` reports, an error of the transport under it (a reset, `ECONNRESET`;
 * 'close' follows with 1006). At most one per connection, the first. Listeners the handler
 * adds with `socket.on('error')` still get protocol errors too.
 *
 * Without a custom `errorHandler`, protocol errors go to the socket's 'error' listeners, or
 * are logged at `warn` when it has none; a reset is not an error of the application and is
 * only seen as 'close' with 1006.
 */
export function connectionOpened (
  fastify: FastifyInstance,
  state: PluginState,
  socket: WebSocket,
  transport: Duplex,
  request: FastifyRequest,
  reply: FastifyReply,
  route: string
): void {
  state.registry.add(socket, route)
  const errorHandler = state.errorHandler
  if (errorHandler !== undefined) {
    let reported = false
    const report = (error: Error): void => {
      if (reported) return
      reported = true
      try {
        errorHandler.call(fastify, error, socket, request, reply)
      } catch (handlerError) {
        request.log.error({ err: handlerError, cause: error }, 'websocket errorHandler threw')
      }
    }
    socket.on('error', report)
    transport.on('error', report)
  }
  state.server.announce(socket, request.raw)
}
