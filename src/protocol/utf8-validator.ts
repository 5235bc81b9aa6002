import { isUtf8 } from 'node:buffer'

/**
 * Streaming UTF-8 validation (RFC 3629), for text messages that arrive in pieces.
 *
 * RFC 6455 §8.1 lets an endpoint fail a text message as soon as its bytes cannot be valid
 * UTF-8. Each piece is split into three parts: the tail of a sequence carried over from the
 * previous piece (checked byte by byte, at most 3 bytes), a middle of whole sequences
 * (checked by Node's native `isUtf8`, which is SIMD-fast), and an incomplete sequence at the
 * end (checked byte by byte as a prefix, so `F4 90` fails now rather than one piece later).
 */
export class Utf8Validator {
  /** Continuation bytes still expected for the sequence in progress. */
  private needed = 0
  /** Allowed range for the next continuation byte (narrowed after E0, ED, F0, F4). */
  private lower = 0x80
  private upper = 0xbf

  /** Forget any sequence in progress (a new message starts). */
  reset (): void {
    this.needed = 0
    this.lower = 0x80
    this.upper = 0xbf
  }

  /** True while a multi-byte sequence is open; a message must not end this way. */
  get incomplete (): boolean {
    return this.needed !== 0
  }

  /** Feeds the next piece. Returns false as soon as the bytes seen so far cannot be UTF-8. */
  write (data: Uint8Array): boolean {
    const length = data.length
    let i = 0
    while (this.needed !== 0 && i < length) {
      if (!this.continue(data[i])) return false
      i++
    }
    if (i === length) return true

    const tail = incompleteTailStart(data, i)
    if (tail > i && !isUtf8(data.subarray(i, tail))) return false
    for (let k = tail; k < length; k++) {
      if (!this.step(data[k])) return false
    }
    return true
  }

  /** Checks one byte as the start of a sequence or as the next continuation byte. */
  private step (byte: number): boolean {
    if (this.needed !== 0) return this.continue(byte)
    // Only an incomplete tail reaches here, which starts with a lead byte: kept for safety.
    /* c8 ignore next */
    if (byte < 0x80) return true
    if (byte >= 0xc2 && byte <= 0xdf) { this.open(1, 0x80, 0xbf); return true }
    if (byte === 0xe0) { this.open(2, 0xa0, 0xbf); return true } // no overlongs
    if (byte === 0xed) { this.open(2, 0x80, 0x9f); return true } // no UTF-16 surrogates
    if (byte >= 0xe1 && byte <= 0xef) { this.open(2, 0x80, 0xbf); return true }
    if (byte === 0xf0) { this.open(3, 0x90, 0xbf); return true } // no overlongs
    if (byte >= 0xf1 && byte <= 0xf3) { this.open(3, 0x80, 0xbf); return true }
    if (byte === 0xf4) { this.open(3, 0x80, 0x8f); return true } // nothing above U+10FFFF
    return false // 80-C1 as a lead byte, F5-FF
  }

  private open (needed: number, lower: number, upper: number): void {
    this.needed = needed
    this.lower = lower
    this.upper = upper
  }

  private continue (byte: number): boolean {
    if (byte < this.lower || byte > this.upper) return false
    this.needed--
    this.lower = 0x80
    this.upper = 0xbf
    return true
  }
}

/** Length of the sequence a lead byte announces; 0 for bytes that cannot lead. */
function sequenceLength (byte: number): number {
  if (byte < 0x80) return 1
  if (byte >= 0xc2 && byte <= 0xdf) return 2
  if (byte >= 0xe0 && byte <= 0xef) return 3
  if (byte >= 0xf0 && byte <= 0xf4) return 4
  return 0
}

/**
 * Index where a sequence that runs past the end of `data` starts, or `data.length` when the
 * data ends on a sequence boundary. Looks back at most 3 bytes, so it is O(1).
 */
function incompleteTailStart (data: Uint8Array, from: number): number {
  const length = data.length
  const stop = Math.max(from, length - 3)
  for (let j = length - 1; j >= stop; j--) {
    const byte = data[j]
    if ((byte & 0xc0) === 0x80) continue // continuation byte: keep looking for the lead
    const expected = sequenceLength(byte)
    // An invalid lead is left to the byte-wise check, which rejects it.
    if (expected === 0) return j
    return j + expected > length ? j : length
  }
  return length
}

/** Whole-buffer check, for payloads that arrive complete (close reasons, single frames). */
export function isValidUtf8 (data: Uint8Array): boolean {
  return isUtf8(data)
}
