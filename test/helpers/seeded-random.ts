/**
 * Seeded randomness for reproducible tests: the same seed always gives the same sequence, so a
 * failing random case can be run again.
 */

/** mulberry32: a tiny, fast, seeded PRNG (public domain). Returns floats in [0, 1). */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [min, max] (inclusive) from a seeded source. */
export function randomInt (random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1))
}

/** `length` random bytes from a seeded source. */
export function randomBytes (random: () => number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256)
  return out
}
