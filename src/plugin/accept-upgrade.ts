import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ReadyState, createWebSocket, releaseEvents, type ConnectionSettings, type MessageCodec, type WebSocket } from '../connection/index.js'
import { CloseCode, buildAcceptResponse, isHeaderValue, isToken, negotiatePerMessageDeflate, validateClientHandshake } from '../protocol/index.js'
import { selectProtocol, type ResolvedConnectionOptions } from './options.js'
import type { PendingUpgrade, PluginState } from './plugin-state.js'
import { connectionOpened } from './connection-opened.js'
import { destroyOnUpgradeError } from './upgrade-listener.js'

/** The user's websocket handler, as the plugin calls it. */
export type AnyWebSocketHandler = (this: FastifyInstance, socket: WebSocket, request: FastifyRequest) => unknown

/** Headers the 101 sets itself, or that make no sense on it; a route's copies are dropped. */
const RESERVED_101_HEADERS = new Set([
  'upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions',
  'content-length', 'content-type', 'transfer-encoding', 'keep-alive'
])

/**
 * Completes an upgrade that reached a websocket route's handler (after every hook ran):
 * validates the handshake (RFC 6455 §4.2.1), answers a bad one with 400 or 426 through the
 * reply, otherwise writes the 101 with any headers hooks set on the reply, and starts the
 * connection and the user's handler.
 */
export function acceptUpgrade (
  fastify: FastifyInstance,
  state: PluginState,
  pending: PendingUpgrade,
  request: FastifyRequest,
  reply: FastifyReply,
  options: ResolvedConnectionOptions,
  handler: AnyWebSocketHandler,
  settings: ConnectionSettings
): FastifyReply | undefined {
  if (state.refusing !== undefined) return sendError(reply, 503, state.refusing)
  const raw = request.raw
  const check = validateClientHandshake({ method: raw.method, httpVersion: raw.httpVersion, headers: raw.headers })
  if (!check.ok) return sendError(reply, check.status, check.reason, check.headers)
  // Throws for a selector that picks an unoffered protocol: Fastify answers 500.
  const protocol = selectProtocol(options.protocols, check.protocols, request)
  // The whole 101 is built while the reply can still answer: a header a hook set that cannot
  // go on the wire (a line break in its value) is a 500 with a reason, not a hung client.
  // RFC 7692 §5: accept the first permessage-deflate offer we can honour, or decline them all.
  const deflate = options.perMessageDeflate === null ? null : negotiatePerMessageDeflate(check.extensions, options.perMessageDeflate)
  let accept: string
  try {
    accept = buildAcceptResponse(check.key, protocol, extraHeaders(reply), deflate?.header)
  } catch (error) {
    request.log.error({ err: error }, 'websocket upgrade: a header set on the reply cannot be sent')
    // The 500 itself must not carry the header that broke the 101.
    for (const [name, value] of extraHeaders(reply)) {
      if (!isSendableHeader(name, value)) reply.removeHeader(name)
    }
    return sendError(reply, 500, (error as Error).message)
  }

  const { socket, head } = pending
  reply.hijack()
  reply.raw.detachSocket(socket as Socket)
  // The client left while hooks ran (it is gone, or its FIN already arrived, as `ws` checks):
  // nothing to upgrade. A half-closed socket would otherwise stay open with nobody to end it.
  if (socket.destroyed || !socket.readable || !socket.writable) {
    socket.destroy()
    return undefined
  }

  socket.write(accept)
  state.handshakeTimeouts.stop(socket)
  // `head` (bytes that came with the request) is read like any later chunk, once the
  // handler is ready: a close frame among them must not pre-empt the replies to the messages
  // in front of it (nothing may follow our close frame, RFC 6455 §5.5.1).
  const ws = createWebSocket(socket, settings, {
    head,
    protocol,
    holdEvents: true,
    perMessageDeflate: deflate === null
      ? undefined
      : { options: options.perMessageDeflate!, params: deflate.params, header: deflate.header, limiter: state.zlibLimiter(options.perMessageDeflate!.concurrencyLimit) },
    label: request.id
  })
  // The connection listens for errors now; the upgrade's stopgap listener can go.
  socket.removeListener('error', destroyOnUpgradeError)
  connectionOpened(fastify, state, ws, socket, request, reply, settings.route!)
  runHandler(fastify, state, ws, request, reply, handler)
  return undefined
}

/**
 * What every connection of one route shares (see ConnectionSettings): built on the route's
 * first upgrade and kept by the route, so a connection holds one pointer to it rather than
 * an options object, closures and the upgrade's buffers of its own.
 */
export function connectionSettings (
  fastify: FastifyInstance,
  state: PluginState,
  options: ResolvedConnectionOptions,
  route: string,
  messageCodec: MessageCodec | undefined
): ConnectionSettings {
  return {
    role: 'server',
    route,
    counters: state.counters,
    maxMessageSize: options.maxMessageSize,
    closeTimeout: options.closeTimeout,
    heartbeat: state.heartbeatFor(options),
    topics: state.topics,
    maxBufferedAmount: options.maxBufferedAmount,
    backpressurePolicy: options.backpressurePolicy,
    autoPong: options.autoPong,
    messageCodec,
    onClosed: state.registry.removerFor(route),
    // The app's logger and the request id (the label), not the request or its child logger,
    // which would stay alive as long as the connection.
    onUnhandledError: (error, reqId) => fastify.log.warn({ reqId, err: error }, 'websocket connection failed')
  }
}

function sendError (reply: FastifyReply, status: number, message: string, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers(headers).send({ statusCode: status, error: STATUS_CODES[status], message })
}

/** Whether a header can be written as is: a token name and values without CR, LF or NUL. */
function isSendableHeader (name: string, value: string | number | readonly string[]): boolean {
  if (!isToken(name)) return false
  const values = Array.isArray(value) ? value : [String(value)]
  return values.every(isHeaderValue)
}

function * extraHeaders (reply: FastifyReply): Generator<[string, string | number | readonly string[]]> {
  const headers = reply.getHeaders()
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (value === undefined || RESERVED_101_HEADERS.has(name.toLowerCase())) continue
    yield [name, value as string | number | readonly string[]]
  }
}

/**
 * Calls the user's handler. Events that arrive before it is ready are held, then delivered
 * in order: when it returns, when its promise settles, or as soon as it attaches a 'message'
 * or 'close' listener (for handlers that await forever, like `for await` loops).
 */
function runHandler (
  fastify: FastifyInstance,
  state: PluginState,
  ws: WebSocket,
  request: FastifyRequest,
  reply: FastifyReply,
  handler: AnyWebSocketHandler
): void {
  let released = false
  const release = (): void => {
    if (released) return
    released = true
    ws.removeListener('newListener' as 'message', watchListeners as never)
    releaseEvents(ws)
  }
  // Installed before the handler runs, so listeners it attaches synchronously count too.
  function watchListeners (event: string | symbol): void {
    if (event === 'message' || event === 'close') queueMicrotask(release)
  }
  ws.on('newListener' as 'message', watchListeners as never)
  const onError = (error: unknown): void => {
    release()
    handleError(fastify, state, error, ws, request, reply)
  }
  let result: unknown
  try {
    result = handler.call(fastify, ws, request)
  } catch (error) {
    onError(error)
    return
  }
  if (isPromiseLike(result)) result.then(release, onError)
  else release()
}

function handleError (
  fastify: FastifyInstance,
  state: PluginState,
  error: unknown,
  ws: WebSocket,
  request: FastifyRequest,
  reply: FastifyReply
): void {
  if (state.errorHandler !== undefined) {
    try {
      state.errorHandler.call(fastify, error, ws, request, reply)
      return
    } catch (handlerError) {
      request.log.error({ err: handlerError }, 'websocket errorHandler threw')
    }
  } else {
    request.log.error({ err: error }, 'websocket handler failed')
  }
  // 1011 with no internal detail: the peer learns that we failed, not why.
  if (ws.readyState === ReadyState.OPEN) ws.close(CloseCode.InternalError)
}

function isPromiseLike (value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
