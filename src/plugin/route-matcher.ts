import FindMyWay from 'find-my-way'
import type { FastifyInstance } from 'fastify'

/**
 * Knows which paths belong to websocket routes, so the upgrade listener claims only those
 * and leaves other upgrades (a dev server's HMR socket, a proxy) to their own listeners.
 * Built with Fastify's own router and its path options, so it matches the way Fastify does.
 * Constraints (host, version) are left to Fastify's routing, which runs next.
 */
export class RouteMatcher {
  private readonly router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>
  private readonly paths = new Set<string>()

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

  add (url: string): void {
    if (this.paths.has(url)) return
    this.paths.add(url)
    this.router.on('GET', url, noop)
  }

  /** Whether `url` (path and query, as in the request line) is a websocket route's path. */
  matches (url: string | undefined): boolean {
    if (url === undefined || this.paths.size === 0) return false
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    return this.router.find('GET', path) !== null
  }
}

function noop (): void {}
