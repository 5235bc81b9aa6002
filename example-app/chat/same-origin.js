// Which pages may open the chat socket: the chat's own pages, and nothing else.
//
// A browser sends `Origin` (the page's scheme://host:port) with every WebSocket handshake, and
// `Host` (the host:port it connected to). The page was loaded from this server, so its origin is
// this server as the browser reached it: `http://` + the Host header. Computing it per request,
// rather than configuring one, keeps it right for however the user reached us: 127.0.0.1 or
// localhost, or any of this machine's addresses and names behind HOST=0.0.0.0. Host cannot be
// forged by a page (browsers set it from the URL), and a client that can forge it can forge
// Origin as well: an Origin check only protects browsers' users, whose cookies would otherwise
// ride along on a socket opened by another site's page (cross-site WebSocket hijacking).
//
// Behind a TLS-terminating proxy the page is `https://` and the proxy may rewrite Host: set
// ALLOWED_ORIGINS (exact origins, comma-separated) instead.

/**
 * The `allowedOrigins` function of the chat route: true when `origin` is the origin of the page
 * that this very request's browser loaded from us.
 *
 * @param {string} origin the Origin header, as the browser sent it
 * @param {import('node:http').IncomingMessage} request the raw upgrade request
 * @returns {boolean}
 */
export function isOwnOrigin (origin, request) {
  const host = request.headers.host
  if (host === undefined) return false
  const scheme = 'encrypted' in request.socket && request.socket.encrypted === true ? 'https' : 'http'
  // Browsers serialise both in lowercase, without the default port (RFC 6454 §6.2).
  return origin === `${scheme}://${host.toLowerCase()}`
}

/**
 * ALLOWED_ORIGINS (`https://chat.example.com,https://www.example.com`) as a list, or undefined.
 *
 * @param {string | undefined} value
 * @returns {string[] | undefined}
 */
export function parseAllowedOrigins (value) {
  const origins = value?.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '') ?? []
  return origins.length > 0 ? origins : undefined
}
