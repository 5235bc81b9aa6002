import { EMPTY_BLOCK, Op, SimdOp, ValueType, emitModule, i32Const, simd, v128Memory } from './wasm-emitter.js'

/**
 * The WebAssembly SIMD masking kernel (RFC 6455 §5.3: byte i of the payload is XORed with
 * byte i mod 4 of the masking key), built from opcodes when first needed.
 *
 * In WebAssembly text format:
 *
 * ```wat
 * (module
 *   (memory (export "memory") 1 1)               ;; one 64 KiB page, never grows
 *   (func (export "xor") (param $at i32) (param $length i32) (param $key i32)
 *     (local $end i32) (local $keys v128)
 *     (local.set $keys (i32x4.splat (local.get $key)))
 *     (local.set $end (i32.add (local.get $at) (local.get $length)))
 *     (block $done
 *       (loop $next
 *         (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
 *         ;; four 16-byte lanes a round: 64 bytes
 *         (v128.store offset=0  (local.get $at) (v128.xor (v128.load offset=0  (local.get $at)) (local.get $keys)))
 *         (v128.store offset=16 (local.get $at) (v128.xor (v128.load offset=16 (local.get $at)) (local.get $keys)))
 *         (v128.store offset=32 (local.get $at) (v128.xor (v128.load offset=32 (local.get $at)) (local.get $keys)))
 *         (v128.store offset=48 (local.get $at) (v128.xor (v128.load offset=48 (local.get $at)) (local.get $keys)))
 *         (local.set $at (i32.add (local.get $at) (i32.const 64)))
 *         (br $next))))
 * ```
 *
 * `xor` works on whole 64-byte blocks: the caller rounds the length up to a multiple of
 * {@link KERNEL_BLOCK_SIZE}, which is safe because the memory is the caller's scratch window
 * (the extra bytes past the data are never copied out). `key` is the 4-byte key as a
 * little-endian i32, rotated so that its low byte applies to the byte at `at`.
 */
export const KERNEL_BLOCK_SIZE = 64

/** Size of the kernel's memory, which the caller uses as its scratch window: one 64 KiB page. */
export const KERNEL_MEMORY_SIZE = 65536

/** The exports of an instance of {@link maskKernelModuleBytes}. */
export interface MaskKernelExports {
  memory: { readonly buffer: ArrayBuffer }
  xor: (at: number, length: number, key: number) => void
}

// Parameter and local indices of `xor`.
const AT = 0
const LENGTH = 1
const KEY = 2
const END = 3
const KEYS = 4

/** The binary module (155 bytes). */
export function maskKernelModuleBytes (): Uint8Array {
  const xorLane = (offset: number): number[] => [
    Op.localGet, AT, // address for the store
    Op.localGet, AT, ...v128Memory(SimdOp.v128Load, offset),
    Op.localGet, KEYS, ...simd(SimdOp.v128Xor),
    ...v128Memory(SimdOp.v128Store, offset)
  ]
  return emitModule({
    memoryPages: KERNEL_MEMORY_SIZE / 65536,
    memoryName: 'memory',
    functions: [{
      name: 'xor',
      params: [ValueType.i32, ValueType.i32, ValueType.i32],
      results: [],
      locals: [ValueType.i32, ValueType.v128],
      body: [
        Op.localGet, KEY, ...simd(SimdOp.i32x4Splat), Op.localSet, KEYS,
        Op.localGet, AT, Op.localGet, LENGTH, Op.i32Add, Op.localSet, END,
        Op.block, EMPTY_BLOCK,
        Op.loop, EMPTY_BLOCK,
        Op.localGet, AT, Op.localGet, END, Op.i32GeU, Op.brIf, 1, // to the end of the block
        ...xorLane(0),
        ...xorLane(16),
        ...xorLane(32),
        ...xorLane(48),
        Op.localGet, AT, ...i32Const(KERNEL_BLOCK_SIZE), Op.i32Add, Op.localSet, AT,
        Op.br, 0, // to the start of the loop
        Op.end,
        Op.end
      ]
    }]
  })
}
