/**
 * Frames for tests, written independently of src/protocol (nothing here imports it) so the two
 * check each other: the wire opcodes; one builder, which can also write frames no correct sender
 * would (any RSV bits, any opcode, non-minimal length encodings, a declared length that differs
 * from the payload); one decoder, used by the raw client, the byte sink and the raw server; close
 * bodies; the opening handshake's accept key; and readable descriptions of frames.
 */
import { createHash } from 'node:crypto'

/** Wire opcodes (RFC 6455 §5.2), repeated here so the tests do not depend on the code under test. */
export const OP = {
  CONT: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa
} as const

/** RFC 6455 §5.7's example mask key; the default for client frames. */
export const EXAMPLE_MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d])

/** Bytes in any form a test has them: strings are UTF-8. */
export type Bytes = Buffer | Uint8Array | string | readonly number[]

/** `value` as a Buffer (a copy for byte arrays; empty for undefined). */
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

// --- Building frames ----------------------------------------------------------------------

/** Everything buildFrame writes: any opcode and flags, a mask or none, any length encoding. */
export interface FrameSpec {
  /** Any 4-bit value, reserved ones included. */
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
   * The length written in the header, when it should differ from the payload's (to send only a
   * header, or a 64-bit length with the top bit set). The payload is still appended as it is.
   */
  declaredLength?: number | bigint
}

/** A frame's options other than its opcode and payload (for the shorthands below). */
export type FrameFlags = Omit<FrameSpec, 'opcode' | 'payload'>

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

/** A whole frame: the header, then the payload (masked with EXAMPLE_MASK unless `mask` says otherwise). */
export function buildFrame (spec: FrameSpec): Buffer {
  const payload = bytes(spec.payload)
  const head = frameHeader(spec)
  const body = spec.mask === false ? payload : xorMask(payload, bytes(spec.mask ?? EXAMPLE_MASK))
  return Buffer.concat([head, body])
}

/** A masked frame, as a client sends it (EXAMPLE_MASK unless `flags.mask` gives a key). */
export function clientFrame (opcode: number, payload?: Bytes, flags: FrameFlags = {}): Buffer {
  return buildFrame({ ...flags, opcode, payload })
}

/** An unmasked frame, as a server sends it. */
export function serverFrame (opcode: number, payload?: Bytes, flags: Omit<FrameFlags, 'mask'> = {}): Buffer {
  return buildFrame({ ...flags, opcode, payload, mask: false })
}

/**
 * The RSV flags for a 3-bit RSV value as the Autobahn testsuite numbers it (4 = RSV1,
 * 2 = RSV2, 1 = RSV3): `clientFrame(OP.TEXT, 'x', rsvFlags(5))` sets RSV1 and RSV3.
 */
export function rsvFlags (rsv: number): Pick<FrameSpec, 'rsv1' | 'rsv2' | 'rsv3'> {
  return { rsv1: (rsv & 4) !== 0, rsv2: (rsv & 2) !== 0, rsv3: (rsv & 1) !== 0 }
}

// --- Close frames ---------------------------------------------------------------------------

/** A close frame body: a 2-byte code and a reason (RFC 6455 §5.5.1). */
export function closeBody (code: number, reason: Bytes = ''): Buffer {
  const head = Buffer.alloc(2)
  head.writeUInt16BE(code)
  return Buffer.concat([head, bytes(reason)])
}

/** A client's (masked) close frame with `code` and `reason`, or with an empty body when `code` is undefined. */
export function closeFrame (code?: number, reason: Bytes = '', flags: FrameFlags = {}): Buffer {
  return buildFrame({ ...flags, opcode: OP.CLOSE, payload: code === undefined ? undefined : closeBody(code, reason) })
}

/** A close frame's body, decoded. */
export interface CloseBody {
  /** Undefined when the body is empty (or too short to hold a code). */
  code: number | undefined
  reason: string
}

/** Decodes a close frame's body (RFC 6455 §5.5.1); no validation. */
export function decodeClose (payload: Uint8Array): CloseBody {
  const body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (body.length < 2) return { code: undefined, reason: '' }
  return { code: body.readUInt16BE(0), reason: body.subarray(2).toString('utf8') }
}

// --- Decoding frames ------------------------------------------------------------------------

/** One frame as it arrived, decoded. */
export interface ParsedFrame {
  fin: boolean
  rsv1: boolean
  rsv2: boolean
  rsv3: boolean
  opcode: number
  masked: boolean
  /** The mask key as sent (a copy), or null for an unmasked frame. */
  maskKey: Buffer | null
  /** Bytes of extended length: 0 (7-bit), 2 (16-bit) or 8 (64-bit): the length encoding used. */
  lengthBytes: number
  /** Bytes of header: the first two, the extended length and the mask key. */
  headerLength: number
  /** The payload, unmasked (a copy: the input is not changed). */
  payload: Buffer
  /** Close frames only: the status code (undefined for an empty body) and the reason. */
  closeCode?: number
  closeReason?: string
}

/**
 * Decodes the frame that starts at `offset` of `data`: the frame and how many bytes it took,
 * or null when `data` does not hold all of it yet. Throws on a length no test could hold (over
 * 2^53 - 1 bytes).
 */
export function parseFrame (data: Uint8Array, offset = 0): { frame: ParsedFrame, length: number } | null {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (buf.length - offset < 2) return null
  const b0 = buf[offset]
  const b1 = buf[offset + 1]
  const masked = (b1 & 0x80) !== 0
  let length = b1 & 0x7f
  let at = offset + 2
  if (length === 126) {
    if (buf.length < at + 2) return null
    length = buf.readUInt16BE(at)
    at += 2
  } else if (length === 127) {
    if (buf.length < at + 8) return null
    const big = buf.readBigUInt64BE(at)
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`a frame of ${big} bytes is too large for the test decoder`)
    length = Number(big)
    at += 8
  }
  const lengthBytes = at - offset - 2
  let maskKey: Buffer | null = null
  if (masked) {
    if (buf.length < at + 4) return null
    maskKey = Buffer.from(buf.subarray(at, at + 4))
    at += 4
  }
  if (buf.length < at + length) return null
  const raw = buf.subarray(at, at + length)
  const payload = maskKey === null ? Buffer.from(raw) : xorMask(raw, maskKey)
  const frame: ParsedFrame = {
    fin: (b0 & 0x80) !== 0,
    rsv1: (b0 & 0x40) !== 0,
    rsv2: (b0 & 0x20) !== 0,
    rsv3: (b0 & 0x10) !== 0,
    opcode: b0 & 0x0f,
    masked,
    maskKey,
    lengthBytes,
    headerLength: at - offset,
    payload
  }
  if (frame.opcode === OP.CLOSE) {
    const { code, reason } = decodeClose(payload)
    frame.closeCode = code
    frame.closeReason = reason
  }
  return { frame, length: at + length - offset }
}

/** Decodes as many complete frames as `data` holds; `rest` is the incomplete tail. */
export function parseFrames (data: Uint8Array): { frames: ParsedFrame[], rest: Buffer } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const frames: ParsedFrame[] = []
  let offset = 0
  for (let parsed = parseFrame(buf, offset); parsed !== null; parsed = parseFrame(buf, offset)) {
    frames.push(parsed.frame)
    offset += parsed.length
  }
  return { frames, rest: buf.subarray(offset) }
}

/** Decodes `data`, which must be exactly one frame (for checking a frame we wrote). */
export function decodeFrame (data: Uint8Array): ParsedFrame {
  const parsed = parseFrame(data)
  if (parsed === null) throw new RangeError(`${data.length} bytes are not a whole frame`)
  if (parsed.length !== data.length) throw new RangeError(`frame is ${data.length} bytes, header says ${parsed.length}`)
  return parsed.frame
}

// --- The opening handshake's accept key -----------------------------------------------------

/** RFC 6455 §1.3: the GUID the accept key is derived with. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** RFC 6455 §4.2.2: base64(SHA-1(key + GUID)), computed here independently of src/. */
export function computeAccept (key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64')
}

// --- Describing frames ------------------------------------------------------------------------

/** Payloads up to this size are shown as hex; longer ones as length and hash. */
const SHOW_LIMIT = 128

/** A payload as tests compare it: hex up to 128 bytes, else its length and SHA-1. */
export function show (data: Uint8Array): string {
  if (data.length <= SHOW_LIMIT) return Buffer.from(data).toString('hex')
  return `${data.length}B sha1:${createHash('sha1').update(data).digest('hex')}`
}

const OPCODE_NAMES: Record<number, string> = { 0: 'cont', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' }

/** A readable, exact description of one frame we wrote (decoded by the independent decoder). */
export function describeFrame (data: Uint8Array): string {
  const frame = decodeFrame(data)
  const name = OPCODE_NAMES[frame.opcode] ?? `op${frame.opcode}`
  const rsv = (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0)
  const flags = `${frame.fin ? '' : ' nofin'}${rsv !== 0 ? ` rsv${rsv.toString(16)}` : ''}${frame.masked ? ' masked' : ''}`
  if (frame.opcode === 8) {
    if (frame.payload.length === 0) return `close${flags} (empty)`
    const code = frame.payload.readUInt16BE(0)
    return `close${flags} ${code} ${JSON.stringify(frame.payload.subarray(2).toString('utf8'))}`
  }
  return `${name}${flags} ${show(frame.payload)}`
}
