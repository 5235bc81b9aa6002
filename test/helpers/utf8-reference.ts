/**
 * Reference answers for UTF-8 questions, built only on Node's `buffer.isUtf8`, so the streaming
 * validator of src/protocol is checked against something that shares none of its code.
 */
import { isUtf8 } from 'node:buffer'

/**
 * Whether `prefix` can still become valid UTF-8 by appending bytes. An incomplete final
 * sequence needs at most 3 more continuation bytes; only the first of them has a narrowed
 * range (E0: A0-BF, ED: 80-9F, F0: 90-BF, F4: 80-8F), and one of 80, 90, A0 satisfies each.
 */
export function isViablePrefix (prefix: Uint8Array): boolean {
  if (isUtf8(prefix)) return true
  for (const first of [0x80, 0x90, 0xa0]) {
    for (let extra = 1; extra <= 3; extra++) {
      const candidate = Buffer.alloc(prefix.length + extra, 0x80)
      candidate.set(prefix)
      candidate[prefix.length] = first
      if (isUtf8(candidate)) return true
    }
  }
  return false
}

/**
 * How many bytes of `data` a fail-fast validator must see before it can reject: the length of
 * the shortest non-viable prefix, or -1 when every prefix is viable (the data is valid, or
 * only incomplete at its end).
 */
export function failFastLength (data: Uint8Array): number {
  // Viability is monotone (a non-viable prefix stays non-viable), so binary search works.
  if (isViablePrefix(data)) return -1
  let low = 0 // viable
  let high = data.length // not viable
  while (high - low > 1) {
    const middle = (low + high) >>> 1
    if (isViablePrefix(data.subarray(0, middle))) low = middle
    else high = middle
  }
  return high
}
