import type { IncomingMessage } from 'node:http'
import { ConfigErrorCode, FastifyWebSocketConfigError, invalidOption } from './errors.js'

/**
 * Which pages may open WebSockets here, judged by the `Origin` header browsers send with every
 * upgrade (RFC 6455 §10.2, §4.1 item 8). It guards against cross-site WebSocket hijacking: a
 * page on another site opening a socket that carries the user's cookies.
 *
 * - an array of exact origins (`'https://app.example.com'`) and RegExps tested on the origin;
 * - a RegExp;
 * - a function `(origin, request) => boolean | Promise<boolean>`. It runs before Fastify's
 *   routing and hooks, so it gets Node's `IncomingMessage`.
 */
export type AllowedOrigins =
  | ReadonlyArray<string | RegExp>
  | RegExp
  | ((origin: string, request: IncomingMessage) => boolean | Promise<boolean>)

/** An upgrade's verdict: allowed, or refused with why (for the 403's body). */
export type OriginVerdict = true | string

/** A checked policy, ready to judge requests. */
export type OriginCheck = (request: IncomingMessage) => OriginVerdict | Promise<OriginVerdict>

/**
 * Validates `allowedOrigins` / `requireOrigin` and returns the check, or undefined when any
 * origin (and none) is allowed. Exact origins must be written as browsers send them
 * (`scheme://host[:port]`, no path, no trailing slash), or register fails with the fix.
 */
export function resolveOriginPolicy (allowed: AllowedOrigins | undefined, requireOrigin: boolean | undefined): OriginCheck | undefined {
  if (requireOrigin !== undefined && typeof requireOrigin !== 'boolean') throw invalidOption('requireOrigin', 'a boolean', requireOrigin)
  if (allowed === undefined) {
    if (requireOrigin === true) throw invalidOption('requireOrigin', 'used with allowedOrigins (it says which origins)', requireOrigin)
    return undefined
  }
  const test = originTest(allowed)
  const mustHaveOrigin = requireOrigin === true
  return (request) => {
    const origin = request.headers.origin
    // No Origin: a non-browser client (browsers always send it on an upgrade).
    if (origin === undefined) return mustHaveOrigin ? 'an Origin header is required' : true
    const verdict = test(origin, request)
    if (typeof verdict === 'boolean') return verdict || refusal(origin)
    return verdict.then((allowedNow) => allowedNow === true || refusal(origin))
  }
}

function refusal (origin: string): string {
  return `origin ${JSON.stringify(origin)} is not allowed`
}

function originTest (allowed: AllowedOrigins): (origin: string, request: IncomingMessage) => boolean | Promise<boolean> {
  if (typeof allowed === 'function') return allowed
  if (allowed instanceof RegExp) return (origin) => testRegExp(allowed, origin)
  if (!Array.isArray(allowed) || allowed.length === 0) {
    throw invalidOption('allowedOrigins', 'a non-empty array of origins and RegExps, a RegExp, or a function', allowed)
  }
  const exact = new Set<string>()
  const patterns: RegExp[] = []
  for (const entry of allowed) {
    if (entry instanceof RegExp) patterns.push(entry)
    else if (typeof entry === 'string') exact.add(exactOrigin(entry))
    else throw invalidOption('allowedOrigins', 'origins (strings) and RegExps', entry)
  }
  return (origin) => exact.has(origin) || patterns.some((pattern) => testRegExp(pattern, origin))
}

/** A RegExp with the g or y flag keeps state between tests: reset it each time. */
function testRegExp (pattern: RegExp, origin: string): boolean {
  pattern.lastIndex = 0
  return pattern.test(origin)
}

/** An origin as browsers serialise it (RFC 6454 §6.2), or a config error saying how to write it. */
function exactOrigin (entry: string): string {
  let parsed: URL
  try {
    parsed = new URL(entry)
  } catch {
    throw new FastifyWebSocketConfigError(ConfigErrorCode.InvalidOption, `allowedOrigins: ${JSON.stringify(entry)} is not an origin (write it as scheme://host[:port])`)
  }
  if (parsed.origin !== entry) {
    throw new FastifyWebSocketConfigError(ConfigErrorCode.InvalidOption,
      `allowedOrigins: ${JSON.stringify(entry)} is not an origin as browsers send it; did you mean ${JSON.stringify(parsed.origin)}?`)
  }
  return entry
}
