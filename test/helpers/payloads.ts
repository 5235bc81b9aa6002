/**
 * Payloads for tests: deterministic and cheap to make (no crypto), with content that shows a
 * shuffled, truncated or duplicated payload; and the sizes that cover every length encoding.
 */

/** ASCII text of exactly `size` bytes that is not one repeated byte (a shuffle would show). */
export function text (size: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  let unit = ''
  for (let i = 0; i < 997; i++) unit += alphabet[(i * 7) % alphabet.length]
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size)
}

/** Deterministic bytes of `size` (no crypto needed for content checks). */
export function pattern (size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size)
  let x = seed * 2654435761 >>> 0
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/**
 * A UTF-8 text of exactly `length` bytes mixing 1-, 2-, 3- and 4-byte characters, so chunk
 * boundaries fall inside multi-byte sequences.
 */
export function utf8Text (length: number): Buffer {
  const unit = Buffer.from('aé€𝄞', 'utf8') // 1 + 2 + 3 + 4 bytes
  const out = Buffer.alloc(length, 0x61)
  let offset = 0
  while (offset + unit.length <= length) {
    unit.copy(out, offset)
    offset += unit.length
  }
  return out
}

/** `length` bytes repeating `unit` (the Autobahn testsuite repeats a short ASCII pattern). */
export function repeated (unit: string | Buffer, length: number): Buffer {
  const source = typeof unit === 'string' ? Buffer.from(unit, 'utf8') : unit
  const out = Buffer.allocUnsafe(length)
  for (let offset = 0; offset < length; offset += source.length) source.copy(out, offset, 0, Math.min(source.length, length - offset))
  return out
}

/** Sizes across every length encoding, as [label, bytes]. */
export const SIZES: ReadonlyArray<[string, number]> = [
  ['0 B', 0],
  ['125 B', 125],
  ['126 B', 126],
  ['65535 B', 65535],
  ['64 KiB', 64 * 1024],
  ['1 MiB', 1024 * 1024]
]
