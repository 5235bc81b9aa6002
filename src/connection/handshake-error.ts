/**
 * The server refused or botched the opening handshake. Carries what the server said, so a
 * test can assert on a hook's 401 or a 404 (`statusCode`, `headers`, `body`).
 */
export class WebSocketHandshakeError extends Error {
  readonly code = 'WS_ERR_HANDSHAKE_FAILED'
  /** The response status, or undefined when no valid HTTP response arrived. */
  readonly statusCode: number | undefined
  /** Response headers, lower-case names. */
  readonly headers: Record<string, string | string[]>
  /** Response body as text (at most 1 MiB is read). */
  readonly body: string

  constructor (message: string, statusCode?: number, headers: Record<string, string | string[]> = {}, body = '') {
    super(message)
    this.name = 'WebSocketHandshakeError'
    this.statusCode = statusCode
    this.headers = headers
    this.body = body
  }
}
