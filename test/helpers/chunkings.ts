/**
 * Feed-in-every-chunking helper for codec tests.
 *
 * A sans-I/O parser must give the same result however its input is cut. `chunkings(input)`
 * yields the same bytes cut in many ways: whole, byte by byte, split at every offset into two
 * pieces, and several seeded random cuttings. Every chunking gets its own fresh copy of the
 * input, because the parser unmasks payload in place. (`checkAllChunkings` in
 * protocol-recorder.ts runs WebSocketProtocol over all of them.)
 */
import { randomInt, seededRandom } from './seeded-random.js'

export interface Chunking {
  /** e.g. 'whole', 'byte-by-byte', 'split@17', 'random#3' */
  name: string
  chunks: Buffer[]
}

export interface ChunkingOptions {
  /** Seeds of the random chunkings. @default [1, 2, 3, 4, 5, 6, 7, 8] */
  seeds?: readonly number[]
  /**
   * Inputs up to this many bytes are split at every offset. Longer inputs (a 1 MiB frame would
   * need a million copies of a million bytes) are split at every offset of their first and
   * last `edge` bytes, plus `sampled` seeded random offsets. @default 4096
   */
  exhaustiveSplitLimit?: number
  /** @default 256 */
  edge?: number
  /** @default 48 */
  sampled?: number
  /** Inputs up to this many bytes are also fed byte by byte. @default Infinity */
  byteByByteLimit?: number
}

/** Cuts a fresh copy of `input` at the given sorted, distinct offsets (each in 1..length-1). */
export function cutAt (input: Uint8Array, offsets: readonly number[]): Buffer[] {
  const copy = Buffer.from(input)
  const chunks: Buffer[] = []
  let start = 0
  for (const offset of offsets) {
    chunks.push(copy.subarray(start, offset))
    start = offset
  }
  chunks.push(copy.subarray(start))
  return chunks
}

/** Cuts `data` into pieces of `size` bytes (the last may be shorter). */
export function chop (data: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = []
  for (let offset = 0; offset < data.length; offset += size) pieces.push(data.subarray(offset, offset + size))
  return pieces
}

/** The offsets a two-piece split is tried at, per the options above. */
export function splitOffsets (length: number, options: ChunkingOptions = {}): number[] {
  const limit = options.exhaustiveSplitLimit ?? 4096
  const offsets = new Set<number>()
  if (length <= limit) {
    for (let i = 1; i < length; i++) offsets.add(i)
  } else {
    const edge = options.edge ?? 256
    for (let i = 1; i <= edge; i++) {
      offsets.add(i)
      offsets.add(length - i)
    }
    const random = seededRandom(length)
    const sampled = options.sampled ?? 48
    for (let i = 0; i < sampled; i++) offsets.add(randomInt(random, 1, length - 1))
  }
  return [...offsets].sort((a, b) => a - b)
}

/** Random cut offsets: from a few big pieces to many small ones, depending on the seed. */
function randomOffsets (length: number, seed: number): number[] {
  if (length < 2) return []
  const random = seededRandom(seed * 7919 + length)
  const offsets = new Set<number>()
  // Odd seeds cut into small pieces (1..16 bytes) near the start, even seeds anywhere.
  if (seed % 2 === 1) {
    let position = 0
    const stop = Math.min(length, 4096)
    for (;;) {
      position += randomInt(random, 1, 16)
      if (position >= stop) break
      offsets.add(position)
    }
  }
  const cuts = randomInt(random, 1, Math.min(length - 1, 64))
  for (let i = 0; i < cuts; i++) offsets.add(randomInt(random, 1, length - 1))
  return [...offsets].sort((a, b) => a - b)
}

/** Every chunking of `input`: whole, byte by byte, two pieces at every offset, random. */
export function * chunkings (input: Uint8Array, options: ChunkingOptions = {}): Generator<Chunking> {
  const length = input.length
  yield { name: 'whole', chunks: [Buffer.from(input)] }
  if (length >= 2 && length <= (options.byteByByteLimit ?? Infinity)) {
    const copy = Buffer.from(input)
    const chunks: Buffer[] = []
    for (let i = 0; i < length; i++) chunks.push(copy.subarray(i, i + 1))
    yield { name: 'byte-by-byte', chunks }
  }
  for (const offset of splitOffsets(length, options)) {
    yield { name: `split@${offset}`, chunks: cutAt(input, [offset]) }
  }
  for (const seed of options.seeds ?? [1, 2, 3, 4, 5, 6, 7, 8]) {
    yield { name: `random#${seed}`, chunks: cutAt(input, randomOffsets(length, seed)) }
  }
}
