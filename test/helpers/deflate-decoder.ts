/**
 * A small, slow, independent DEFLATE decoder (RFC 1951) for tests. It decodes raw DEFLATE with
 * an optional history (what context takeover keeps), and records the largest match distance
 * used, so tests can check that a compressor honoured a negotiated window (RFC 7692 §7.1.2)
 * without trusting zlib to say so. Written from the RFC, sharing nothing with zlib.
 */

/** Lengths base/extra bits for codes 257..285 (RFC 1951 §3.2.5). */
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
/** Order of code length code lengths (RFC 1951 §3.2.7). */
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

export interface DecodeResult {
  output: Buffer
  /** Largest back-reference distance seen (0 if none). */
  maxDistance: number
  /** Blocks seen, by type: 0 stored, 1 fixed, 2 dynamic. */
  blockTypes: number[]
  /** A block with BFINAL=1 was seen. */
  sawFinal: boolean
}

class EndOfInput extends Error {}

interface Huffman {
  /** count[len] = number of codes of that length */
  counts: number[]
  /** symbols ordered by code */
  symbols: number[]
}

function buildHuffman (lengths: number[]): Huffman {
  const counts = new Array<number>(16).fill(0)
  for (const length of lengths) counts[length]++
  counts[0] = 0
  const offsets = new Array<number>(16).fill(0)
  for (let i = 1; i < 16; i++) offsets[i] = offsets[i - 1] + counts[i - 1]
  const symbols = new Array<number>(lengths.length).fill(0)
  for (let symbol = 0; symbol < lengths.length; symbol++) {
    if (lengths[symbol] !== 0) symbols[offsets[lengths[symbol]]++] = symbol
  }
  return { counts, symbols }
}

/**
 * Decodes `input` (raw DEFLATE, as RFC 7692 §7.2.2 hands it after restoring the tail) with
 * `history` as the bytes before it. Stops at the end of input between blocks, after a final
 * block, or throws on invalid data or a distance reaching before the history.
 */
export function decodeDeflate (input: Uint8Array, history: Uint8Array = new Uint8Array(0)): DecodeResult {
  let position = 0
  let bitBuffer = 0
  let bitCount = 0
  const out: number[] = Array.from(history)
  const start = out.length
  let maxDistance = 0
  const blockTypes: number[] = []
  let sawFinal = false

  const bits = (n: number): number => {
    while (bitCount < n) {
      if (position >= input.length) throw new EndOfInput()
      bitBuffer |= input[position++] << bitCount
      bitCount += 8
    }
    const value = bitBuffer & ((1 << n) - 1)
    bitBuffer >>>= n
    bitCount -= n
    return value
  }
  const decodeSymbol = (h: Huffman): number => {
    let code = 0
    let first = 0
    let index = 0
    for (let len = 1; len < 16; len++) {
      code |= bits(1)
      const count = h.counts[len]
      if (code - count < first) return h.symbols[index + (code - first)]
      index += count
      first += count
      first <<= 1
      code <<= 1
    }
    throw new Error('invalid Huffman code')
  }

  for (;;) {
    let final: number
    try {
      final = bits(1)
    } catch (error) {
      if (error instanceof EndOfInput) break
      throw error
    }
    const type = bits(2)
    blockTypes.push(type)
    if (type === 0) {
      bitBuffer = 0
      bitCount = 0
      if (position + 4 > input.length) break // a stored block header cut by the end (the stripped tail)
      const len = input[position] | (input[position + 1] << 8)
      const nlen = input[position + 2] | (input[position + 3] << 8)
      if ((len ^ 0xffff) !== nlen) throw new Error('invalid stored block lengths')
      position += 4
      if (position + len > input.length) throw new Error('stored block runs past the input')
      for (let i = 0; i < len; i++) out.push(input[position + i])
      position += len
    } else if (type === 1 || type === 2) {
      let literals: Huffman
      let distances: Huffman
      if (type === 1) {
        const lengths: number[] = []
        for (let i = 0; i < 288; i++) lengths.push(i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8)
        literals = buildHuffman(lengths)
        distances = buildHuffman(new Array<number>(30).fill(5))
      } else {
        const hlit = bits(5) + 257
        const hdist = bits(5) + 1
        const hclen = bits(4) + 4
        const clLengths = new Array<number>(19).fill(0)
        for (let i = 0; i < hclen; i++) clLengths[CL_ORDER[i]] = bits(3)
        const cl = buildHuffman(clLengths)
        const lengths: number[] = []
        while (lengths.length < hlit + hdist) {
          const symbol = decodeSymbol(cl)
          if (symbol < 16) lengths.push(symbol)
          else if (symbol === 16) {
            if (lengths.length === 0) throw new Error('repeat with no previous length')
            const previous = lengths[lengths.length - 1]
            for (let n = 3 + bits(2); n > 0; n--) lengths.push(previous)
          } else if (symbol === 17) {
            for (let n = 3 + bits(3); n > 0; n--) lengths.push(0)
          } else {
            for (let n = 11 + bits(7); n > 0; n--) lengths.push(0)
          }
        }
        literals = buildHuffman(lengths.slice(0, hlit))
        distances = buildHuffman(lengths.slice(hlit))
      }
      for (;;) {
        const symbol = decodeSymbol(literals)
        if (symbol < 256) {
          out.push(symbol)
        } else if (symbol === 256) {
          break
        } else {
          const li = symbol - 257
          if (li >= 29) throw new Error('invalid length symbol')
          const length = LENGTH_BASE[li] + bits(LENGTH_EXTRA[li])
          const di = decodeSymbol(distances)
          if (di >= 30) throw new Error('invalid distance symbol')
          const distance = DIST_BASE[di] + bits(DIST_EXTRA[di])
          if (distance > out.length) throw new Error(`distance ${distance} reaches before the history`)
          if (distance > maxDistance) maxDistance = distance
          for (let i = 0; i < length; i++) out.push(out[out.length - distance])
        }
      }
    } else {
      throw new Error('invalid block type 3')
    }
    if (final === 1) {
      sawFinal = true
      break
    }
  }
  return { output: Buffer.from(out.slice(start)), maxDistance, blockTypes, sawFinal }
}
