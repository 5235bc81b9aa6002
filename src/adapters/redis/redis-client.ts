/**
 * What the adapter uses of an ioredis client (`Redis` or `Cluster`, ioredis 5 or 6), written
 * out structurally so that a client from the user's own copy of ioredis type-checks: ioredis's
 * classes have private members, which would make them incompatible across copies.
 */
export interface RedisClientLike {
  /** ioredis's connection status: `'wait'`, `'connecting'`, `'connect'`, `'ready'`, `'reconnecting'`, `'close'`, `'end'`... */
  readonly status: string
  /** `true` on an ioredis `Cluster`. */
  readonly isCluster?: boolean
  on (event: string, listener: (...args: any[]) => void): unknown
  removeListener (event: string, listener: (...args: any[]) => void): unknown
  connect (): Promise<void>
  quit (): Promise<unknown>
  disconnect (reconnect?: boolean): void
  duplicate (...args: any[]): unknown
  publish (channel: string, message: Buffer): Promise<unknown>
  spublish (channel: string, message: Buffer): Promise<unknown>
  subscribe (...channels: string[]): Promise<unknown>
  unsubscribe (...channels: string[]): Promise<unknown>
  ssubscribe (...channels: string[]): Promise<unknown>
  sunsubscribe (...channels: string[]): Promise<unknown>
}

/** The parts of a client the adapter reads but that ioredis does not type publicly the same way in every version. */
export interface RedisClientInternals {
  options?: { autoResubscribe?: boolean, shardedSubscribers?: boolean }
  /** A standalone client's socket: its write buffer tells whether Redis keeps up. */
  stream?: {
    writableLength?: number
    once?: (event: 'drain', listener: () => void) => unknown
    cork?: () => void
    uncork?: () => void
  }
}

/** Whether `value` looks like an ioredis client, for option validation. */
export function isRedisClient (value: unknown): value is RedisClientLike {
  if (typeof value !== 'object' || value === null) return false
  const client = value as Record<string, unknown>
  return typeof client.status === 'string' &&
    typeof client.on === 'function' &&
    typeof client.removeListener === 'function' &&
    typeof client.publish === 'function' &&
    typeof client.subscribe === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.quit === 'function'
}
