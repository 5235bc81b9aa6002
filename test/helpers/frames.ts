/**
 * A frame builder for tests, written independently of src/protocol (it imports nothing from
 * it) so the two can check each other. It can build frames no correct sender would: any RSV
 * bits, any opcode, non-minimal length encodings, a declared length that differs from the
 * payload. Also here: a decoder and describer for frames we wrote, shorthands for expected
 * events, and reference answers for UTF-8 questions.
 */
import { createHash } from 'node:crypto'
import { isUtf8 } from 'node:buffer'

/** RFC 6455 §5.7's example mask key; the default for client frames. */
export const EXAMPLE_MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d])

export type Bytes = Buffer | Uint8Array | string | readonly number[]

export interface FrameSpec {
  opcode: number
  /** Strings are UTF-8. @default empty */
  payload?: Bytes
  /** @default true */
  fin?: boolean
  rsv1?: boolean
  rsv2?: boolean
  rsv3?: boolean
  /** A 4-byte key to mask with (like a client), or false for an unmasked frame. @default EXAMPLE_MASK */
  mask?: Bytes | false
  /**
   * Force the length field: 7 (only for lengths < 126), 16 or 64 bits. Larger forms than needed
   * are the non-minimal encodings RFC 6455 §5.2 forbids senders to use. @default minimal
   */
  lengthEncoding?: 7 | 16 | 64
  /**
   * The length written in the header, when it should differ from the payload's (for
   * header-only tests, or a 64-bit length with the top bit set).
   */
  declaredLength?: number | bigint
}

export function bytes (value: Bytes | undefined): Buffer {
  if (value === undefined) return Buffer.alloc(0)
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  return Buffer.from(value as Uint8Array)
}

/** Hex without separators, for readable fixtures: hex('81 05 48') or hex('810548'). */
export function hex (text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

/** Naive per-byte XOR (the reference the optimised mask code is checked against). */
export function xorMask (data: Uint8Array, mask: Uint8Array, offset = 0): Buffer {
  const out = Buffer.alloc(data.length)
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ mask[(i + offset) % 4]
  return out
}

/** The header alone (first two bytes, extended length, mask key). */
export function frameHeader (spec: FrameSpec): Buffer {
  const payloadLength = bytes(spec.payload).length
  const declared = BigInt(spec.declaredLength ?? payloadLength)
  const encoding = spec.lengthEncoding ?? (declared < 126n ? 7 : declared < 0x10000n ? 16 : 64)
  const mask = spec.mask === false ? null : bytes(spec.mask ?? EXAMPLE_MASK)
  if (mask !== null && mask.length !== 4) throw new RangeError('a mask key is 4 bytes')

  const parts: number[] = []
  parts.push((spec.fin === false ? 0 : 0x80) |
    (spec.rsv1 === true ? 0x40 : 0) |
    (spec.rsv2 === true ? 0x20 : 0) |
    (spec.rsv3 === true ? 0x10 : 0) |
    (spec.opcode & 0x0f))
  const maskBit = mask === null ? 0 : 0x80
  if (encoding === 7) {
    if (declared > 125n) throw new RangeError('a 7-bit length is at most 125')
    parts.push(maskBit | Number(declared))
  } else if (encoding === 16) {
    if (declared > 0xffffn) throw new RangeError('a 16-bit length is at most 65535')
    parts.push(maskBit | 126, Number(declared >> 8n), Number(declared & 0xffn))
  } else {
    parts.push(maskBit | 127)
    for (let shift = 56n; shift >= 0n; shift -= 8n) parts.push(Number((declared >> shift) & 0xffn))
  }
  if (mask !== null) parts.push(...mask)
  return Buffer.from(parts)
}

/** A whole frame. Masked with EXAMPLE_MASK unless `mask` says otherwise. */
export function frame (spec: FrameSpec): Buffer {
  const payload = bytes(spec.payload)
  const head = frameHeader(spec)
  const body = spec.mask === false ? payload : xorMask(payload, bytes(spec.mask ?? EXAMPLE_MASK))
  return Buffer.concat([head, body])
}

/** A masked frame, as a client sends it. */
export function clientFrame (opcode: number, payload?: Bytes, spec: Omit<FrameSpec, 'opcode' | 'payload'> = {}): Buffer {
  return frame({ ...spec, opcode, payload })
}

/** An unmasked frame, as a server sends it. */
export function serverFrame (opcode: number, payload?: Bytes, spec: Omit<FrameSpec, 'opcode' | 'payload' | 'mask'> = {}): Buffer {
  return frame({ ...spec, opcode, payload, mask: false })
}

/** A close frame body: a 2-byte code and a reason (RFC 6455 §5.5.1). */
export function closeBody (code: number, reason: Bytes = ''): Buffer {
  const head = Buffer.alloc(2)
  head.writeUInt16BE(code)
  return Buffer.concat([head, bytes(reason)])
}

/** Wire opcodes, repeated here so the builder does not depend on the code under test. */
export const OP = {
  CONT: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa
} as const

/**
 * Parses one frame a server or client wrote (for checking output): header fields, and the
 * payload unmasked. Throws if `data` is not exactly one frame.
 */
export function decodeFrame (data: Uint8Array): { fin: boolean, rsv: number, opcode: number, masked: boolean, maskKey: Buffer | null, lengthBytes: number, payload: Buffer } {
  const buf = Buffer.from(data)
  if (buf.length < 2) throw new RangeError('short frame')
  const fin = (buf[0] & 0x80) !== 0
  const rsv = buf[0] & 0x70
  const opcode = buf[0] & 0x0f
  const masked = (buf[1] & 0x80) !== 0
  let length = buf[1] & 0x7f
  let offset = 2
  if (length === 126) {
    length = buf.readUInt16BE(2)
    offset = 4
  } else if (length === 127) {
    length = Number(buf.readBigUInt64BE(2))
    offset = 10
  }
  const lengthBytes = offset - 2
  let maskKey: Buffer | null = null
  if (masked) {
    maskKey = buf.subarray(offset, offset + 4)
    offset += 4
  }
  if (buf.length !== offset + length) throw new RangeError(`frame is ${buf.length} bytes, header says ${offset + length}`)
  const raw = buf.subarray(offset)
  const payload = maskKey === null ? Buffer.from(raw) : xorMask(raw, maskKey)
  return { fin, rsv, opcode, masked, maskKey, lengthBytes, payload }
}

// --- Describing frames and events (for expected timelines) -----------------------------------

/** Payloads up to this size are shown as hex; longer ones as length and hash. */
const SHOW_LIMIT = 128

export function show (data: Uint8Array): string {
  if (data.length <= SHOW_LIMIT) return Buffer.from(data).toString('hex')
  return `${data.length}B sha1:${createHash('sha1').update(data).digest('hex')}`
}

const OPCODE_NAMES: Record<number, string> = { 0: 'cont', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' }

/** A readable, exact description of one frame we wrote (decoded by the independent decoder). */
export function describeFrame (data: Uint8Array): string {
  const frame = decodeFrame(data)
  const name = OPCODE_NAMES[frame.opcode] ?? `op${frame.opcode}`
  const flags = `${frame.fin ? '' : ' nofin'}${frame.rsv !== 0 ? ` rsv${frame.rsv.toString(16)}` : ''}${frame.masked ? ' masked' : ''}`
  if (frame.opcode === 8) {
    if (frame.payload.length === 0) return `close${flags} (empty)`
    const code = frame.payload.readUInt16BE(0)
    return `close${flags} ${code} ${JSON.stringify(frame.payload.subarray(2).toString('utf8'))}`
  }
  return `${name}${flags} ${show(frame.payload)}`
}

export type Entry =
  | { type: 'write', frame: string }
  | { type: 'message', binary: boolean, data: string }
  | { type: 'ping', data: string }
  | { type: 'pong', data: string }
  | { type: 'close', code: number, reason: string }
  | { type: 'error', code: string, closeCode: number, message: string }
  | { type: 'threw', message: string }

/** Expected entries; an error's message is not part of the stable API, so it is left out. */
export type Expected =
  | Exclude<Entry, { type: 'error' } | { type: 'write' }>
  | { type: 'error', code: string, closeCode: number }
  | { type: 'write', frame: string | RegExp }

// --- Expected-event shorthands ------------------------------------------------------------

export const ev = {
  text: (data: Bytes): Expected => ({ type: 'message', binary: false, data: show(bytes(data)) }),
  binary: (data: Bytes): Expected => ({ type: 'message', binary: true, data: show(bytes(data)) }),
  ping: (data: Bytes = ''): Expected => ({ type: 'ping', data: show(bytes(data)) }),
  pong: (data: Bytes = ''): Expected => ({ type: 'pong', data: show(bytes(data)) }),
  close: (code: number, reason = ''): Expected => ({ type: 'close', code, reason }),
  error: (code: string, closeCode: number): Expected => ({ type: 'error', code, closeCode }),
  /** We wrote a frame; `description` as recorder.describeFrame prints it. */
  write: (description: string | RegExp): Expected => ({ type: 'write', frame: description }),
  /** We wrote a pong (the auto-reply to a ping). */
  wrotePong: (data: Bytes = '', masked = false): Expected => ({ type: 'write', frame: `pong${masked ? ' masked' : ''} ${show(bytes(data))}` }),
  /** We wrote a close frame echoing `code` (no reason), or an empty one. */
  wroteClose: (code?: number, masked = false): Expected => ({
    type: 'write',
    frame: `close${masked ? ' masked' : ''} ${code === undefined ? '(empty)' : `${code} ""`}`
  }),
  /** We wrote the close frame that fails the connection with `closeCode` (any reason). */
  wroteFailure: (closeCode: number, masked = false): Expected => ({
    type: 'write',
    frame: new RegExp(`^close${masked ? ' masked' : ''} ${closeCode} "`)
  })
}

/** A close code and its failure: the frame we write, then the error event. */
export function failure (code: string, closeCode: number, masked = false): Expected[] {
  return [ev.wroteFailure(closeCode, masked), ev.error(code, closeCode)]
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

// --- UTF-8 reference answers, built only on Node's buffer.isUtf8 --------------------------

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
