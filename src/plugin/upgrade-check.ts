import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { validateClientHandshake } from '../protocol/index.js'
import type { UpgradeCheck, VerifyClientAsync, VerifyClientInfo, VerifyClientSync } from './ws-options.js'

/**
 * Runs the pre-upgrade checks of `ws` that @fastify/websocket apps configure in `options`, at
 * the point `ws` runs them: after the route's hooks and the handshake checks, before the 101.
 *
 * - `path`: an upgrade whose path (without the query) differs gets 400, as in `ws`.
 * - `verifyClient(info)` returning falsy, or `verifyClient(info, callback)` calling back
 *   `false`, refuses with the given status (401 by default), message and headers. The
 *   callback form is told apart by its two parameters, as `ws` does.
 *
 * `proceed` completes the upgrade; it is called at most once, and only if every check passed.
 * A handshake that is itself invalid goes straight to `proceed`, which refuses it (400/426)
 * without asking `verifyClient`, as `ws` checks the handshake first. Returns what the route
 * handler returns to Fastify.
 */
export function runUpgradeCheck (
  check: UpgradeCheck,
  request: FastifyRequest,
  reply: FastifyReply,
  proceed: () => FastifyReply | undefined
): FastifyReply | undefined {
  const raw = request.raw
  if (!validateClientHandshake({ method: raw.method, httpVersion: raw.httpVersion, headers: raw.headers }).ok) return proceed()

  if (check.path !== undefined && pathOf(raw.url) !== check.path) return refuse(reply, 400)

  const verifyClient = check.verifyClient
  if (verifyClient === undefined) return proceed()
  const info: VerifyClientInfo = {
    origin: raw.headers.origin,
    secure: (raw.socket as Partial<TLSSocket>).encrypted === true || (raw.socket as Partial<TLSSocket>).authorized === true,
    req: raw
  }
  if (verifyClient.length !== 2) {
    // A throw here is the handler's: Fastify answers 500.
    return (verifyClient as VerifyClientSync)(info) ? proceed() : refuse(reply, 401)
  }

  let answered = false
  const callback = (result: boolean, code?: number, name?: string, headers?: OutgoingHttpHeaders): void => {
    // Only the first answer counts; the reply cannot be sent twice.
    if (answered) return
    answered = true
    try {
      if (result) proceed()
      else refuse(reply, code ?? 401, name, headers)
    } catch (error) {
      if (!reply.sent) reply.send(error)
    }
  }
  const returned: unknown = (verifyClient as VerifyClientAsync)(info, callback)
  // `async (info, callback) => {}` that throws: `ws` would leave the rejection unhandled;
  // here it is the upgrade's 500.
  if (isPromiseLike(returned)) {
    returned.then(undefined, (error: unknown) => {
      if (answered) return
      answered = true
      reply.send(error)
    })
  }
  // Fastify leaves the reply open: it is sent (or hijacked) when the callback runs. A callback
  // that never comes is bounded by handshakeTimeout.
  return undefined
}

/**
 * Refuses the upgrade as `ws` does: `status`, the message (the status text by default), and
 * any headers `verifyClient` gave. The body is this plugin's usual JSON error, unless those
 * headers set a content type, in which case the message is sent as it is (as `ws` sends it).
 */
function refuse (reply: FastifyReply, status: number, message?: string, headers?: OutgoingHttpHeaders): FastifyReply {
  const text = message ?? STATUS_CODES[status] ?? 'Error'
  reply.code(status)
  let ownContentType = false
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    // Fastify computes the length of what it sends.
    if (lower === 'content-length') continue
    if (lower === 'content-type') ownContentType = true
    reply.header(name, value)
  }
  return ownContentType ? reply.send(text) : reply.send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: text })
}

/** The path of a request target, without its query. */
function pathOf (url: string | undefined): string {
  if (url === undefined) return ''
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

function isPromiseLike (value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
