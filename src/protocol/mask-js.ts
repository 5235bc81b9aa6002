/**
 * The pure-JavaScript masking kernels (RFC 6455 §5.3: payload byte i is XORed with masking-key
 * byte (i mod 4)). Both work in place on any length, alignment and `offset`, where `offset` is
 * the position of `data[0]` in the payload, so a payload masked in pieces keeps its place in
 * the key's 4-byte cycle.
 *
 * They serve small buffers always and every buffer when WebAssembly SIMD is missing (see
 * mask.ts for the dispatch and bench/micro/codec.js for the measurements behind it).
 */

/**
 * Byte by byte, with the four key bytes rotated into locals and the loop unrolled by four:
 * no index arithmetic on the key per byte. The fastest kernel for short buffers (measured
 * about twice the speed of `data[i] ^= mask[(i + offset) & 3]` below 128 bytes).
 */
export function maskBytesJs (data: Uint8Array, mask: Uint8Array, offset: number): void {
  const length = data.length
  const k0 = mask[offset & 3]
  const k1 = mask[(offset + 1) & 3]
  const k2 = mask[(offset + 2) & 3]
  const k3 = mask[(offset + 3) & 3]
  const whole = length & ~3
  let i = 0
  for (; i < whole; i += 4) {
    data[i] ^= k0
    data[i + 1] ^= k1
    data[i + 2] ^= k2
    data[i + 3] ^= k3
  }
  // 0 to 3 bytes left: they continue the cycle at k0.
  if (i < length) {
    data[i] ^= k0
    if (i + 1 < length) {
      data[i + 1] ^= k1
      if (i + 2 < length) data[i + 2] ^= k2
    }
  }
}

/**
 * Writes `source` XOR the key into `target` from `targetOffset`, byte by byte like
 * {@link maskBytesJs}, leaving `source` as it was: one pass instead of a copy and then an
 * in-place XOR (for short client frames). `target` must have room; `source` and `target`
 * must not overlap unless they are the same bytes (`targetOffset` at `source` itself).
 */
export function maskBytesIntoJs (source: Uint8Array, mask: Uint8Array, offset: number, target: Uint8Array, targetOffset: number): void {
  const length = source.length
  const k0 = mask[offset & 3]
  const k1 = mask[(offset + 1) & 3]
  const k2 = mask[(offset + 2) & 3]
  const k3 = mask[(offset + 3) & 3]
  const whole = length & ~3
  let i = 0
  for (; i < whole; i += 4) {
    target[targetOffset + i] = source[i] ^ k0
    target[targetOffset + i + 1] = source[i + 1] ^ k1
    target[targetOffset + i + 2] = source[i + 2] ^ k2
    target[targetOffset + i + 3] = source[i + 3] ^ k3
  }
  if (i < length) {
    target[targetOffset + i] = source[i] ^ k0
    if (i + 1 < length) {
      target[targetOffset + i + 1] = source[i + 1] ^ k1
      if (i + 2 < length) target[targetOffset + i + 2] = source[i + 2] ^ k2
    }
  }
}

// The 8-byte key pattern is written as bytes and read back as one 64-bit word through the
// same memory, so the word is right on either endianness.
const keyBytes = new Uint8Array(8)
const keyWord = new BigInt64Array(keyBytes.buffer)

/**
 * 64 bits at a time through a BigInt64Array over the 8-byte-aligned middle of the buffer,
 * unrolled by eight, with the unaligned edges done byte by byte. Optimised V8 code does
 * 64-bit BigInt XOR in registers without allocating (measured 20-24 GB/s from 4 KiB up on
 * Node 20, against 4-6 GB/s for a Uint32Array loop and 12-14 GB/s for an unrolled one).
 * Until V8 optimises the function, each word allocates a BigInt; even so (and even under
 * `--jitless`) it stays faster than a 32-bit loop, as it needs half the iterations.
 */
export function maskWordsJs (data: Uint8Array, mask: Uint8Array, offset: number): void {
  const length = data.length
  // Bytes until data is 8-byte aligned in its ArrayBuffer, which a BigInt64Array view needs.
  const lead = Math.min(length, (8 - (data.byteOffset & 7)) & 7)
  for (let i = 0; i < lead; i++) data[i] ^= mask[(offset + i) & 3]

  const words = Math.floor((length - lead) / 8)
  if (words > 0) {
    const start = offset + lead
    for (let k = 0; k < 8; k++) keyBytes[k] = mask[(start + k) & 3]
    const key = keyWord[0]
    const view = new BigInt64Array(data.buffer, data.byteOffset + lead, words)
    const unrolled = words - (words & 7)
    let i = 0
    for (; i < unrolled; i += 8) {
      view[i] ^= key
      view[i + 1] ^= key
      view[i + 2] ^= key
      view[i + 3] ^= key
      view[i + 4] ^= key
      view[i + 5] ^= key
      view[i + 6] ^= key
      view[i + 7] ^= key
    }
    for (; i < words; i++) view[i] ^= key
  }

  for (let i = lead + words * 8; i < length; i++) data[i] ^= mask[(offset + i) & 3]
}
