/**
 * Configuration errors, raised at `register` or route definition time with Fastify-style
 * codes, so a misconfigured app fails at boot rather than on the first connection.
 */
export class FastifyWebSocketConfigError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.name = 'FastifyWebSocketConfigError'
    this.code = code
  }
}

export const ConfigErrorCode = {
  InvalidOption: 'FST_WS_INVALID_OPTION',
  InvalidRouteMethod: 'FST_WS_INVALID_ROUTE_METHOD',
  MissingHandler: 'FST_WS_MISSING_HANDLER'
} as const

export function invalidOption (name: string, expected: string, value: unknown): FastifyWebSocketConfigError {
  return new FastifyWebSocketConfigError(
    ConfigErrorCode.InvalidOption,
    `option "${name}" must be ${expected}, got ${typeof value === 'function' ? 'a function' : JSON.stringify(value)}`
  )
}
