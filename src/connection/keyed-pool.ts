/**
 * One value per key, made on first use and kept for the pool's life: the heartbeat schedulers
 * shared by routes with equal settings, the thread-pool limits shared by connections with the
 * same `concurrencyLimit`.
 */
export function keyedPool<Key, Value> (): (key: Key, create: () => Value) => Value {
  const pool = new Map<Key, Value>()
  return (key, create) => {
    let value = pool.get(key)
    if (value === undefined) {
      value = create()
      pool.set(key, value)
    }
    return value
  }
}
