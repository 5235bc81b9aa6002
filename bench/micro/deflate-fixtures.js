// What the permessage-deflate micro-benchmarks (deflate.js, deflate-memory.js) share: the
// compression units from the build, zlib settings as the plugin resolves its defaults, one
// thread-pool limit, and JSON-like messages (the shape of test/helpers/deflate.ts's).
import { ZlibConcurrencyLimiter } from '../../dist/cjs/compression/index.js'

export { MessageDeflater, MessageInflater, ZlibConcurrencyLimiter, PENDING } from '../../dist/cjs/compression/index.js'

export const SETTINGS = { level: -1, memLevel: 8, strategy: 0, chunkSize: 16384 }
export const limiter = new ZlibConcurrencyLimiter(10)

/** Text-like, compressible messages of `size` bytes, varied by `seed`. */
export function json (size, seed) {
  let s = seed >>> 0
  let out = '{"type":"update","items":['
  while (out.length < size) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    out += `{"id":${s % 100000},"user":"user${s % 977}","status":"${['online', 'away', 'busy'][s % 3]}","score":${(s % 10000) / 100}},`
  }
  return Buffer.from(out.slice(0, size))
}
