import {
  KERNEL_BLOCK_SIZE, KERNEL_MEMORY_SIZE, maskKernelModuleBytes, type MaskKernelExports
} from './wasm/mask-kernel-module.js'

/**
 * Masking (RFC 6455 §5.3) with the WebAssembly SIMD kernel of wasm/mask-kernel-module.ts.
 *
 * WebAssembly code can only touch its own linear memory, which cannot alias a JS Buffer, so
 * each call copies the data into the kernel's memory, XORs it 16 bytes an instruction, and
 * copies it out: two native memcpys (over 100 GB/s here) around a kernel of about 100 GB/s,
 * which nets 30-37 GB/s from 4 KiB up against 20-24 GB/s for the best pure-JS loop.
 *
 * Lifetimes: the memory is one 64 KiB page with its maximum equal to its minimum and no
 * `memory.grow` anywhere, so its ArrayBuffer is never detached and the one view made at
 * instantiation stays valid for the life of the process. Data longer than the window goes
 * through it 64 KiB at a time. Calls are synchronous and never re-enter (no callbacks), so one
 * window per instance is enough; each worker thread gets its own instance.
 */
export class WasmSimdMasker {
  /** Bytes the scratch window holds: all of the kernel's memory. */
  static readonly WINDOW_SIZE = KERNEL_MEMORY_SIZE

  private readonly window: Uint8Array
  private readonly xor: MaskKernelExports['xor']

  /** Wraps an instance of the kernel module; use {@link createWasmSimdMasker}. */
  constructor (kernel: MaskKernelExports) {
    this.window = new Uint8Array(kernel.memory.buffer)
    this.xor = kernel.xor
  }

  /** XORs `data` in place, as if `data[0]` were byte `offset` of the payload. */
  maskInPlace (data: Uint8Array, mask: Uint8Array, offset: number): void {
    const length = data.length
    const window = this.window
    // Every window starts at a multiple of 4 bytes into data, so one key serves them all.
    const key = keyAt(mask, offset)
    for (let done = 0; done < length; done += KERNEL_MEMORY_SIZE) {
      const size = Math.min(KERNEL_MEMORY_SIZE, length - done)
      window.set(size === length ? data : data.subarray(done, done + size), 0)
      this.xor(0, roundUpToBlock(size), key)
      data.set(size === KERNEL_MEMORY_SIZE ? window : window.subarray(0, size), done)
    }
  }

  /**
   * Writes `source` XOR the key into `target` at `targetOffset`, as if `source[0]` were byte
   * `offset` of the payload; `source` is left as it was. `source` and `target` must not
   * overlap, and the target must have room (the caller checks both).
   */
  maskInto (source: Uint8Array, mask: Uint8Array, offset: number, target: Uint8Array, targetOffset: number): void {
    const length = source.length
    const window = this.window
    const key = keyAt(mask, offset)
    for (let done = 0; done < length; done += KERNEL_MEMORY_SIZE) {
      const size = Math.min(KERNEL_MEMORY_SIZE, length - done)
      window.set(size === length ? source : source.subarray(done, done + size), 0)
      this.xor(0, roundUpToBlock(size), key)
      target.set(size === KERNEL_MEMORY_SIZE ? window : window.subarray(0, size), targetOffset + done)
    }
  }
}

/** The part of the `WebAssembly` global this module uses (the project's lib has no DOM types). */
export interface WasmApi {
  validate (bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (compiled: object, imports: object) => { exports: object }
}

/**
 * Compiles and instantiates the kernel, synchronously (the module is 155 bytes; about 1 ms once per process).
 * Returns null when `api` is missing (e.g. `node --jitless`), cannot run 128-bit SIMD
 * (`WebAssembly.validate` of the kernel itself, which uses v128, is the feature test), or
 * fails to instantiate it.
 *
 * @param api the `WebAssembly` global (default; null when there is none); a parameter so that
 *   tests can stand in for an engine without SIMD, which this machine cannot provide.
 */
export function createWasmSimdMasker (api: WasmApi | null = (globalThis as { WebAssembly?: WasmApi }).WebAssembly ?? null): WasmSimdMasker | null {
  if (api === null) return null
  const bytes = maskKernelModuleBytes()
  if (!api.validate(bytes)) return null
  try {
    const instance = new api.Instance(new api.Module(bytes), {})
    return new WasmSimdMasker(instance.exports as MaskKernelExports)
  } catch {
    // A valid module that still fails to compile or instantiate (e.g. no memory for its
    // page) costs speed, not correctness: masking falls back to JS rather than failing a frame.
    return null
  }
}

/**
 * The key rotated to start at payload byte `offset`, as the little-endian i32 the kernel
 * splats (WebAssembly memory is little-endian on every host).
 */
function keyAt (mask: Uint8Array, offset: number): number {
  return mask[offset & 3] | (mask[(offset + 1) & 3] << 8) | (mask[(offset + 2) & 3] << 16) | (mask[(offset + 3) & 3] << 24)
}

/** The kernel XORs whole blocks; the bytes past the data are window scratch. */
function roundUpToBlock (size: number): number {
  return (size + KERNEL_BLOCK_SIZE - 1) & ~(KERNEL_BLOCK_SIZE - 1)
}
