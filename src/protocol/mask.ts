import { randomFillSync } from 'node:crypto'
import { maskBytesIntoJs, maskBytesJs, maskWordsJs } from './mask-js.js'
import { createWasmSimdMasker, type WasmSimdMasker } from './mask-wasm.js'

/**
 * RFC 6455 §5.3 masking: payload byte i is XORed with mask byte (i mod 4).
 *
 * Three kernels, picked by size from measured crossovers (bench/micro/codec.js, "masking"):
 * - below {@link LARGE_KERNEL_MIN_SIZE} bytes, a byte loop (mask-js.ts `maskBytesJs`);
 * - from there, WebAssembly SIMD with copies in and out of its memory (mask-wasm.ts) when the
 *   engine has it, else 64-bit words in JS (mask-js.ts `maskWordsJs`); {@link setMaskKernel}
 *   can force the JS one.
 */

/**
 * Buffers shorter than this (bytes) take the byte loop. Measured on Node 20 / x64: the byte
 * loop runs at about 2.4 GB/s from 64 B up and both other kernels pass it between 112 and
 * 144 B (their fixed cost: a typed-array view, or a call into WebAssembly and two copies).
 */
export const LARGE_KERNEL_MIN_SIZE = 128

/** Which kernel masks buffers of {@link LARGE_KERNEL_MIN_SIZE} bytes and more. */
export type MaskKernel = 'wasm-simd' | 'js'

/**
 * The kernel for large buffers: the WebAssembly one, null for the JS one, undefined until the
 * first large buffer decides (the module is compiled lazily, so a process that never masks a
 * large buffer never compiles it).
 */
let largeKernel: WasmSimdMasker | null | undefined
/** The outcome of the one attempt to instantiate the WebAssembly kernel (undefined: not tried). */
let instantiated: WasmSimdMasker | null | undefined

function instantiateOnce (): WasmSimdMasker | null {
  if (instantiated === undefined) instantiated = createWasmSimdMasker()
  return instantiated
}

/** The WebAssembly kernel for a large buffer, or null for the JS one (decided on first use). */
function largeBufferKernel (): WasmSimdMasker | null {
  if (largeKernel === undefined) largeKernel = instantiateOnce()
  return largeKernel
}

/**
 * Chooses the kernel for large buffers, for the whole process (all sockets share it):
 * `'auto'` (the default) uses WebAssembly SIMD when the engine supports it, `'js'` forces the
 * pure-JS kernels (to test the fallback or compare), `'wasm-simd'` insists on WebAssembly and
 * throws an Error when this engine cannot run it. Returns the kernel now in use.
 */
export function setMaskKernel (choice: 'auto' | MaskKernel): MaskKernel {
  if (choice === 'js') {
    largeKernel = null
  } else if (choice === 'auto') {
    largeKernel = instantiateOnce()
  } else if (choice === 'wasm-simd') {
    const kernel = instantiateOnce()
    if (kernel === null) throw new Error('WebAssembly SIMD is not available in this JavaScript engine')
    largeKernel = kernel
  } else {
    throw new TypeError(`unknown mask kernel ${String(choice)}: expected 'auto', 'js' or 'wasm-simd'`)
  }
  return largeKernel === null ? 'js' : 'wasm-simd'
}

/**
 * XORs `data` in place with `mask`, as if `data` started at byte `offset` of the payload
 * (payloads that arrive in several chunks keep their position in the mask cycle).
 */
export function applyMask (data: Uint8Array, mask: Uint8Array, offset = 0): void {
  const length = data.length
  if (length === 0) return
  // A zero mask is legal (the key is random) and makes XOR a no-op.
  if ((mask[0] | mask[1] | mask[2] | mask[3]) === 0) return
  if (length < LARGE_KERNEL_MIN_SIZE) {
    maskBytesJs(data, mask, offset)
    return
  }
  const kernel = largeBufferKernel()
  if (kernel !== null) kernel.maskInPlace(data, mask, offset)
  else maskWordsJs(data, mask, offset)
}

/**
 * Writes `source` XOR `mask` into `target` at `targetOffset`, leaving `source` untouched (the
 * client must not change the caller's buffer), as if `source` started at byte `maskOffset` of
 * the payload (default 0: a whole payload). Throws a RangeError when `targetOffset` is not an
 * integer or `target` has no room for `source` there; `source` and `target` may overlap.
 */
export function copyMasked (source: Uint8Array, mask: Uint8Array, target: Uint8Array, targetOffset: number, maskOffset = 0): void {
  const length = source.length
  if (!Number.isInteger(targetOffset) || targetOffset < 0 || targetOffset > target.length - length) {
    throw new RangeError(`no room for ${length} bytes at offset ${targetOffset} of a ${target.length}-byte target`)
  }
  if (!overlaps(source, target, targetOffset)) {
    if (length < LARGE_KERNEL_MIN_SIZE) {
      maskBytesIntoJs(source, mask, maskOffset, target, targetOffset)
      return
    }
    const kernel = largeBufferKernel()
    if (kernel !== null) {
      // One trip through the kernel's memory: copied in, XORed, copied out to the target.
      kernel.maskInto(source, mask, maskOffset, target, targetOffset)
      return
    }
  }
  // Overlapping (set() copies as if through a temporary), or large without WebAssembly.
  target.set(source, targetOffset)
  applyMask(target.subarray(targetOffset, targetOffset + length), mask, maskOffset)
}

/** Whether `source` shares bytes with `target`'s region from `targetOffset`. */
function overlaps (source: Uint8Array, target: Uint8Array, targetOffset: number): boolean {
  if (source.buffer !== target.buffer) return false
  const targetStart = target.byteOffset + targetOffset
  return source.byteOffset < targetStart + source.length && targetStart < source.byteOffset + source.length
}

/** Random bytes are drawn in batches: one crypto call serves many frames. */
const MASK_POOL_SIZE = 4096
let maskPool = Buffer.alloc(0)
let maskPoolOffset = MASK_POOL_SIZE

/**
 * A fresh, unpredictable 4-byte mask key (RFC 6455 §5.3: "MUST be derived from a strong
 * source of entropy"), as a view into a pool refilled from `crypto.randomFillSync`.
 */
export function randomMaskKey (): Buffer {
  if (maskPoolOffset + 4 > maskPool.length) {
    maskPool = randomFillSync(Buffer.allocUnsafe(MASK_POOL_SIZE))
    maskPoolOffset = 0
  }
  const key = maskPool.subarray(maskPoolOffset, maskPoolOffset + 4)
  maskPoolOffset += 4
  return key
}
