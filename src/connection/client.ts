import { connect as netConnect } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import type { Duplex } from 'node:stream'
import { ZlibConcurrencyLimiter, resolvePerMessageDeflate, type PerMessageDeflateOptions } from '../compression/index.js'
import {
  buildClientRequest,
  buildPerMessageDeflateOffer,
  validatePerMessageDeflateResponse,
  decodeChunked,
  findHeadEnd,
  hasToken,
  generateClientKey,
  parseResponseHead,
  validateServerHandshake,
  type HttpResponseHead
} from '../protocol/index.js'
import { WebSocketHandshakeError } from './handshake-error.js'
import { keyedPool } from './keyed-pool.js'
import { createWebSocket, releaseEvents, type WebSocket, type WebSocketOptions } from './websocket.js'

export interface ClientOptions {
  /** Subprotocols to offer, in order of preference; the pick is `socket.protocol`. */
  protocols?: readonly string[]
  /** Extra request headers (authorization, cookie). */
  headers?: Record<string, string | readonly string[]>
  /** Largest incoming message in bytes. @default 1 MiB */
  maxMessageSize?: number
  /** See WebSocketOptions.closeTimeout. @default 5000 */
  closeTimeout?: number
  /** Milliseconds for the connection and the whole opening handshake. @default 10000 */
  handshakeTimeout?: number
  /** Largest response head accepted, in bytes. @default 16 KiB */
  maxHandshakeSize?: number
  /** Extra TLS options for wss:// (ca, servername, rejectUnauthorized...). */
  tls?: TlsConnectionOptions
  /** Mask keys for frames; injectable for deterministic tests. @default crypto random */
  maskKeySource?: WebSocketOptions['maskKeySource']
  /**
   * Offer permessage-deflate (RFC 7692), with the server's names of `ws` (see the plugin's
   * `perMessageDeflate`); used if the server accepts. @default false
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions
}

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000
const DEFAULT_MAX_HANDSHAKE_SIZE = 16 * 1024
const MAX_ERROR_BODY = 1024 * 1024

/**
 * Opens a WebSocket to a `ws://` or `wss://` URL and resolves once the server's 101 has been
 * checked. Rejects with a WebSocketHandshakeError (carrying status, headers and body) when the
 * server refuses, and with the network error when it cannot be reached.
 */
export async function connect (url: string | URL, options: ClientOptions = {}): Promise<WebSocket> {
  const target = new URL(url)
  const secure = target.protocol === 'wss:' || target.protocol === 'https:'
  if (!secure && target.protocol !== 'ws:' && target.protocol !== 'http:') {
    throw new TypeError(`unsupported URL scheme ${target.protocol} (use ws: or wss:)`)
  }
  if (target.hash !== '') throw new TypeError('a WebSocket URL must not have a fragment (RFC 6455 §3)')
  const port = target.port === '' ? (secure ? 443 : 80) : Number(target.port)
  const hostname = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname
  // Options that cannot make a valid request fail here, before a connection is opened.
  buildClientRequest({ host: target.host, path: '/', key: 'AAAAAAAAAAAAAAAAAAAAAA==', protocols: options.protocols, headers: options.headers })
  resolvePerMessageDeflate(options.perMessageDeflate)
  const stream: Duplex = secure
    ? tlsConnect({ host: hostname, port, servername: isIp(hostname) ? undefined : hostname, ALPNProtocols: ['http/1.1'], ...options.tls })
    : netConnect({ host: hostname, port })
  const defaultPort = target.port === ''
  try {
    return await openClient(stream, {
      ...options,
      host: defaultPort ? target.host : `${target.hostname}:${port}`,
      path: (target.pathname === '' ? '/' : target.pathname) + target.search
    })
  } catch (error) {
    stream.destroy()
    throw error
  }
}

export interface OpenClientOptions extends ClientOptions {
  /** Host header value. */
  host: string
  /** Request path and query. */
  path: string
}

/**
 * Runs the client side of the opening handshake over any Duplex (a socket being connected, or
 * one end of an in-memory pair) and resolves to the open WebSocket.
 */
export async function openClient (stream: Duplex, options: OpenClientOptions): Promise<WebSocket> {
  const key = generateClientKey()
  const protocols = options.protocols ?? []
  const deflate = resolvePerMessageDeflate(options.perMessageDeflate)
  const extensions = deflate === null ? undefined : buildPerMessageDeflateOffer(deflate)
  const request = buildClientRequest({ host: options.host, path: options.path, key, protocols, headers: options.headers, extensions })
  const maxHandshakeSize = options.maxHandshakeSize ?? DEFAULT_MAX_HANDSHAKE_SIZE

  return await new Promise<WebSocket>((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0)
    let response: HttpResponseHead | undefined
    let bodyStart = 0
    let settled = false

    // A refusal whose body never ends is still a refusal: report what arrived, not a timeout.
    const timer = setTimeout(() => {
      if (response !== undefined) refuse()
      else fail(new WebSocketHandshakeError('opening handshake timed out'))
    }, options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT)

    const cleanup = (): void => {
      settled = true
      clearTimeout(timer)
      stream.removeListener('data', onData)
      stream.removeListener('end', onEnd)
      stream.removeListener('error', onError)
      stream.removeListener('close', onEnd)
    }
    const fail = (error: Error): void => {
      if (settled) return
      cleanup()
      stream.destroy()
      reject(error)
    }
    const refuse = (): void => {
      const head = response as HttpResponseHead
      const body = refusalBody(head, received.subarray(bodyStart)).toString('utf8')
      // `ws`'s wording, which tests written for @fastify/websocket match on.
      fail(new WebSocketHandshakeError(`Unexpected server response: ${head.statusCode}`, head.statusCode, head.headers, body))
    }
    const onError = (error: Error): void => fail(error)
    const onEnd = (): void => {
      if (response !== undefined) refuse()
      else fail(new WebSocketHandshakeError('connection closed during the opening handshake'))
    }
    const onData = (chunk: Buffer): void => {
      // The head is small and arrives once; joining its chunks here is not a hot path.
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk])
      if (response !== undefined) {
        if (refusalComplete(response, received.subarray(bodyStart))) refuse()
        return
      }
      const end = findHeadEnd(received)
      if (end === -1) {
        if (received.length > maxHandshakeSize) fail(new WebSocketHandshakeError('handshake response head too large'))
        return
      }
      if (end > maxHandshakeSize) return fail(new WebSocketHandshakeError('handshake response head too large'))
      const head = parseResponseHead(received.subarray(0, end - 4).toString('latin1'))
      if (head === null) return fail(new WebSocketHandshakeError('malformed HTTP response to the opening handshake'))
      response = head
      bodyStart = end
      if (head.statusCode !== 101) {
        if (refusalComplete(head, received.subarray(bodyStart))) refuse()
        return
      }
      const check = validateServerHandshake(head, key, protocols, deflate !== null)
      if (!check.ok) return fail(new WebSocketHandshakeError(`invalid opening handshake response: ${check.reason}`, head.statusCode, head.headers))
      const agreed = deflate === null ? undefined : validatePerMessageDeflateResponse(check.extensions, deflate)
      if (agreed !== undefined && !agreed.ok) {
        return fail(new WebSocketHandshakeError(`invalid opening handshake response: ${agreed.reason}`, head.statusCode, head.headers))
      }
      cleanup()
      // Frames can arrive with the 101 (in `head`) or right after it, before the caller's
      // `await` resumes and attaches its listeners (an in-memory pair delivers them on the
      // next tick, ahead of promise continuations). Hold events until the event loop's next
      // turn, when every continuation of this resolution has run.
      const socket = createWebSocket(stream, {
        role: 'client',
        protocol: check.protocol,
        head: received.subarray(end),
        holdEvents: true,
        maxMessageSize: options.maxMessageSize,
        closeTimeout: options.closeTimeout,
        maskKeySource: options.maskKeySource,
        perMessageDeflate: deflate === null || agreed?.ok !== true || agreed.params === null
          ? undefined
          : { options: deflate, params: agreed.params, limiter: clientLimiters(deflate.concurrencyLimit, () => new ZlibConcurrencyLimiter(deflate.concurrencyLimit)), header: check.extensions as string }
      })
      resolve(socket)
      setImmediate(releaseEvents, socket)
    }

    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('close', onEnd)
    stream.on('error', onError)
    stream.write(request)
  })
}

/**
 * Whether a refusal's body is all here (RFC 9112 §6.3): its Content-Length (capped), the last
 * chunk of a chunked body, or, with neither, EOF when the server said `Connection: close`.
 * A keep-alive response with neither has no end to wait for: what arrived is the body.
 */
function refusalComplete (head: HttpResponseHead, body: Buffer): boolean {
  if (body.length >= MAX_ERROR_BODY) return true
  const length = Number(head.headers['content-length'])
  if (Number.isSafeInteger(length) && length >= 0) return body.length >= length
  if (isChunked(head)) return decodeChunked(body).complete
  return !hasToken(one(head.headers.connection), 'close')
}

/** The refusal's body as text: de-chunked, and cut at its Content-Length. */
function refusalBody (head: HttpResponseHead, body: Buffer): Buffer {
  if (isChunked(head)) return decodeChunked(body).data
  const length = Number(head.headers['content-length'])
  return Number.isSafeInteger(length) && length >= 0 && length < body.length ? body.subarray(0, length) : body.subarray(0, MAX_ERROR_BODY)
}

function isChunked (head: HttpResponseHead): boolean {
  return hasToken(one(head.headers['transfer-encoding']), 'chunked')
}

function one (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value
}

function isIp (host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':')
}

/**
 * Clients made with `connect()` share one thread-pool bound per `concurrencyLimit` value (the
 * plugin's connections have their own, per plugin instance).
 */
const clientLimiters = keyedPool<number, ZlibConcurrencyLimiter>()
