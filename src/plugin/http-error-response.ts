import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'

/**
 * Answers on a raw upgrade socket, for the few refusals decided before Fastify's routing
 * (a non-GET upgrade, shutdown in progress), then closes the socket. The body is the same
 * JSON shape as Fastify's errors.
 */
export function writeHttpErrorAndClose (
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string> = {}
): void {
  if (socket.destroyed) return
  const error = STATUS_CODES[status] ?? 'Error'
  const body = JSON.stringify({ statusCode: status, error, message })
  let head = `HTTP/1.1 ${status} ${error}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n`
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`
  socket.end(head + '\r\n' + body)
  destroyWhenFlushed(socket)
}

/** Upgrade sockets allow half-open: after our FIN, do not wait for the peer's. */
export function destroyWhenFlushed (socket: Duplex): void {
  if (socket.writableFinished) socket.destroy()
  else socket.once('finish', () => socket.destroy())
}
