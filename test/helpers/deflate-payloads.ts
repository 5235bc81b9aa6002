/**
 * Payloads for the end-to-end permessage-deflate tests: sizes across every crossover of the
 * implementation, and contents that are valid UTF-8 text (compressible, multi-byte) or binary
 * (half random, half runs, so it compresses to about half).
 */
import { isUtf8 } from 'node:buffer'
import { Seeded } from './compression-corpora.js'

const KiB = 1024
const MiB = 1024 * KiB

/**
 * 0 B to 16 MiB: a geometric ladder (x4) plus both sides of each edge: the 7/16/64-bit length
 * encodings (125/126, 65535/65536), the default 1 KiB `threshold`, the 4 KiB sync-deflate
 * limit (SYNC_DEFLATE_MAX_INPUT), the 16 KiB sync-inflate input limit and its 128 KiB output
 * cap (SYNC_INFLATE_MAX_INPUT / _OUTPUT), and the 32 KiB LZ77 window.
 */
export const LADDER: readonly number[] = [...new Set([
  0, 1, 4, 16, 64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB,
  125, 126, 127,
  KiB - 1, KiB + 1,
  4 * KiB - 1, 4 * KiB + 1,
  16 * KiB - 1, 16 * KiB + 1,
  32 * KiB - 1, 32 * KiB, 32 * KiB + 1,
  64 * KiB - 1, 64 * KiB + 1,
  128 * KiB - 1, 128 * KiB, 128 * KiB + 1
])].sort((a, b) => a - b)

const TEXT_UNIT = 'Grüße aus Köln: naïve café, €uro ✓, 日本語のテキスト, 😀🎉 emoji; ASCII filler text for ratio. '

/** Valid UTF-8 text of exactly `size` bytes, multi-byte characters throughout, varied by `seed`. */
export function textPayload (size: number, seed = 1): Buffer {
  const unit = `${seed}:${TEXT_UNIT}`
  const repeated = Buffer.from(unit.repeat(Math.ceil(size / Buffer.byteLength(unit)) + 1), 'utf8')
  const out = Buffer.from(repeated.subarray(0, size))
  if (!isUtf8(out)) {
    // The cut fell inside a character: replace its first bytes with ASCII.
    let end = size
    while (end > 0 && (out[end - 1] & 0xc0) === 0x80) end--
    out.fill(0x2e, Math.max(0, end - 1), size)
  }
  return out
}

/** Binary of exactly `size` bytes: 1 KiB of random bytes, then 1 KiB of a repeated byte, and so on. */
export function binaryPayload (size: number, seed = 1): Buffer {
  const random = new Seeded(seed * 7919 + size)
  const out = Buffer.allocUnsafe(size)
  for (let offset = 0; offset < size; offset += 2 * KiB) {
    random.bytes(Math.min(KiB, size - offset)).copy(out, offset)
    if (offset + KiB < size) out.fill(offset / KiB & 0xff, offset + KiB, Math.min(offset + 2 * KiB, size))
  }
  return out
}

/** "16 MiB", "1023 B" */
export function sizeLabel (size: number): string {
  if (size >= MiB && size % MiB === 0) return `${size / MiB} MiB`
  if (size >= KiB && size % KiB === 0) return `${size / KiB} KiB`
  return `${size} B`
}
