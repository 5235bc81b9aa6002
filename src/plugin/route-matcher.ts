import FindMyWay from 'find-my-way'
import type { FastifyInstance } from 'fastify'
import type { OriginCheck } from './origin-policy.js'

/** What the upgrade listener learns about a path before routing. */
export interface RouteMatch {
  /** The route's origin check, judged before routing and hooks; undefined: any origin. */
  originCheck: OriginCheck | undefined
}

/**
 * Knows which paths belong to websocket routes, so the upgrade listener claims only those
 * and leaves other upgrades (a dev server's HMR socket, a proxy) to their own listeners.
 * Built with Fastify's own router and its path options, so it matches the way Fastify does.
 * Constraints (host, version) are left to Fastify's routing, which runs next.
 */
export class RouteMatcher {
  private readonly router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>
  private readonly paths = new Map<string, RouteMatch>()

  constructor (fastify: FastifyInstance) {
    const config = fastify.initialConfig as Record<string, unknown> & { routerOptions?: Record<string, unknown> }
    const merged = { ...config, ...(config.routerOptions ?? {}) }
    this.router = FindMyWay({
      caseSensitive: merged.caseSensitive as boolean | undefined,
      ignoreTrailingSlash: merged.ignoreTrailingSlash as boolean | undefined,
      ignoreDuplicateSlashes: merged.ignoreDuplicateSlashes as boolean | undefined,
      maxParamLength: merged.maxParamLength as number | undefined,
      allowUnsafeRegex: merged.allowUnsafeRegex as boolean | undefined
    })
  }

  /**
   * Adds a websocket route's path. Routes that share a path (with different constraints)
   * share the first one's origin check: it is judged before routing tells them apart.
   */
  add (url: string, originCheck: OriginCheck | undefined): void {
    if (this.paths.has(url)) return
    const match: RouteMatch = { originCheck }
    this.paths.set(url, match)
    this.router.on('GET', url, noop, match)
  }

  /** The websocket route `url` (path and query, as in the request line) belongs to, if any. */
  match (url: string | undefined): RouteMatch | undefined {
    if (url === undefined || this.paths.size === 0) return undefined
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    return (this.router.find('GET', path)?.store as RouteMatch | undefined) ?? undefined
  }
}

function noop (): void {}
