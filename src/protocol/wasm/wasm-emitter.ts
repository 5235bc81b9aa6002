/**
 * A tiny WebAssembly binary emitter: just enough of the format to write small kernels as
 * readable opcode lists in TypeScript and turn them into a module at load time, so the source
 * holds the kernel itself rather than an opaque byte array, and nothing (no wabt, no wat2wasm)
 * is needed to build or run it.
 *
 * References are to the WebAssembly Core Specification 2.0, chapter 5 "Binary Format", and
 * for the `0xFD` opcodes to its SIMD (fixed-width 128-bit) instruction table.
 *
 * Supported: function types, functions with locals, one fixed-size memory, exports of
 * functions and of the memory. No imports, tables, globals or data segments: kernels that
 * need none of them stay small enough to audit by eye.
 */

/** Bytes as a plain array while a module is being put together. */
export type Bytes = readonly number[]

/** §5.3.1 Number types and §5.3.2 Vector types: the value types the kernels use. */
export const ValueType = {
  i32: 0x7f,
  v128: 0x7b
} as const
export type ValueType = typeof ValueType[keyof typeof ValueType]

/** §5.4.1 Control, §5.4.4 Variable, §5.4.7 Numeric instructions: the opcodes the kernels use. */
export const Op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a
} as const

/** §5.4.1: the block type of a `block` or `loop` that takes and leaves nothing on the stack. */
export const EMPTY_BLOCK = 0x40

/** §5.4.8 Vector instructions: the sub-opcodes after the `0xFD` prefix. */
export const SimdOp = {
  v128Load: 0x00,
  v128Store: 0x0b,
  i32x4Splat: 0x11,
  v128Or: 0x50,
  v128Xor: 0x51,
  i8x16Bitmask: 0x64
} as const

/** §5.2.2: an unsigned integer as unsigned LEB128 (7 bits a byte, high bit = more follows). */
export function u32 (value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a u32: ${value}`)
  const out: number[] = []
  let rest = value >>> 0
  do {
    let byte = rest & 0x7f
    rest >>>= 7
    if (rest !== 0) byte |= 0x80
    out.push(byte)
  } while (rest !== 0)
  return out
}

/** §5.2.2: a signed integer as signed LEB128 (the last byte's bit 6 carries the sign). */
export function s32 (value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`not an s32: ${value}`)
  const out: number[] = []
  let rest = value | 0
  for (;;) {
    const byte = rest & 0x7f
    rest >>= 7
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)
    out.push(done ? byte : byte | 0x80)
    if (done) return out
  }
}

/** `i32.const value`. */
export function i32Const (value: number): number[] {
  return [Op.i32Const, ...s32(value)]
}

/** A SIMD instruction without immediates: the `0xFD` prefix and its sub-opcode as a u32 (§5.4.8). */
export function simd (subOpcode: number): number[] {
  return [0xfd, ...u32(subOpcode)]
}

/**
 * `v128.load` or `v128.store` with its memarg (§5.4.6): the alignment as a power of two
 * (a hint; 4 means 16 bytes) and a constant offset added to the address operand.
 */
export function v128Memory (subOpcode: typeof SimdOp.v128Load | typeof SimdOp.v128Store, offset: number): number[] {
  return [...simd(subOpcode), 4, ...u32(offset)]
}

/** §5.1.3 Vectors: a count, then the items. */
function vector (items: readonly Bytes[]): number[] {
  return [...u32(items.length), ...items.flat()]
}

/** §5.2.4 Names: UTF-8 bytes with their length first. */
function name (text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')]
  return [...u32(bytes.length), ...bytes]
}

/** §5.5.2 Sections: an id, the byte size of the contents, the contents. */
function section (id: number, contents: Bytes): number[] {
  return [id, ...u32(contents.length), ...contents]
}

/** One exported function of a module. */
export interface FunctionSpec {
  /** Export name. */
  name: string
  params: readonly ValueType[]
  results: readonly ValueType[]
  /** Locals after the parameters: local index `params.length + i` is `locals[i]`. */
  locals: readonly ValueType[]
  /** The instructions, without the final `end` (added here). */
  body: Bytes
}

/** A module: one memory of a fixed size, exported, and some exported functions. */
export interface ModuleSpec {
  /** Memory size in 64 KiB pages; the maximum equals the minimum, so it can never grow. */
  memoryPages: number
  /** Export name of the memory. */
  memoryName: string
  functions: readonly FunctionSpec[]
}

/** The module's bytes (§5.5: magic, version, then sections in their required order). */
export function emitModule (spec: ModuleSpec): Uint8Array {
  const functions = spec.functions
  // §5.3.6 Function types: 0x60, parameter vector, result vector. One type per function.
  const types = functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))])
  // §5.5.6 Function section: the type index of each function.
  const functionTypes = functions.map((_, index) => u32(index))
  // §5.3.7 Limits: flag 0x01 = minimum and maximum follow.
  const memories = [[0x01, ...u32(spec.memoryPages), ...u32(spec.memoryPages)]]
  // §5.5.10 Export section: name, kind (0x00 function, 0x02 memory), index.
  const exportEntries = [
    [...name(spec.memoryName), 0x02, ...u32(0)],
    ...functions.map((f, index) => [...name(f.name), 0x00, ...u32(index)])
  ]
  // §5.5.13 Code section: each body is its size, then locals as (count, type) runs, then the expression.
  const bodies = functions.map((f) => {
    const code = [...vector(f.locals.map((t) => [...u32(1), t])), ...f.body, Op.end]
    return [...u32(code.length), ...code]
  })
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, // magic "\0asm"
    0x01, 0x00, 0x00, 0x00, // version 1
    ...section(1, vector(types)),
    ...section(3, vector(functionTypes)),
    ...section(5, vector(memories)),
    ...section(7, vector(exportEntries)),
    ...section(10, vector(bodies))
  ])
}
