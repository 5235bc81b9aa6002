import zlib from 'node:zlib'
import type { ResolvedPerMessageDeflate } from './deflate-options.js'

/**
 * One-shot raw DEFLATE compression of one message (RFC 7692 §7.2.1), synchronous or in the
 * thread pool, with identical bytes either way: both are the same zlib call on the same input
 * with the same settings.
 */

/** zlib settings for our compressor, as `ResolvedPerMessageDeflate` holds them. */
export type DeflateZlibSettings = ResolvedPerMessageDeflate['zlibDeflateOptions']

/** The four octets a sync flush ends with, which RFC 7692 §7.2.1 strips and §7.2.2 restores. */
export const DEFLATE_TAIL: Buffer = Buffer.from([0x00, 0x00, 0xff, 0xff])

/**
 * The `windowBits` handed to zlib for a negotiated window. RFC 7692 allows 8 (a 256-byte
 * window), but zlib refuses 8 for raw deflate (deflateInit2 returns Z_STREAM_ERROR since zlib
 * 1.2.9; Node quietly turns it into 9). We ask for 9 ourselves, which stays within 8: zlib's
 * compressor never emits a distance beyond w_size - MIN_LOOKAHEAD = 512 - 262 = 250 bytes
 * (MAX_DIST in deflate.c), so every match reaches at most 250 < 256 bytes back. The tests check
 * this by decoding our output and measuring every distance.
 */
export function zlibDeflateWindowBits (negotiated: number): number {
  return negotiated === 8 ? 9 : negotiated
}

function optionsFor (windowBits: number, settings: DeflateZlibSettings, dictionary: Buffer | undefined): zlib.ZlibOptions {
  const options: zlib.ZlibOptions = {
    windowBits: zlibDeflateWindowBits(windowBits),
    level: settings.level,
    memLevel: settings.memLevel,
    strategy: settings.strategy,
    chunkSize: settings.chunkSize,
    // RFC 7692 §7.2.1: the message ends with a sync flush (an empty stored block), not a
    // final block, so the peer's decompressor can go on with the next message.
    finishFlush: zlib.constants.Z_SYNC_FLUSH
  }
  if (dictionary !== undefined) options.dictionary = dictionary
  return options
}

/**
 * RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end." A sync
 * flush always ends with them; anything else means zlib misbehaved, reported as an Error.
 * Returns a view (no copy).
 */
export function stripDeflateTail (output: Buffer): Buffer | Error {
  const n = output.length
  if (n < 4 || output[n - 4] !== 0x00 || output[n - 3] !== 0x00 || output[n - 2] !== 0xff || output[n - 1] !== 0xff) {
    return new Error('zlib output does not end with a sync flush')
  }
  return output.subarray(0, n - 4)
}

/**
 * Compresses `data` on the calling thread. `dictionary` is the history for context takeover
 * (undefined for none). Returns the message payload to send with RSV1 set, or an Error when
 * zlib fails (out of memory; never for any input).
 */
export function deflateMessageSync (data: Buffer, windowBits: number, settings: DeflateZlibSettings, dictionary?: Buffer): Buffer | Error {
  let output: Buffer
  try {
    output = zlib.deflateRawSync(data, optionsFor(windowBits, settings, dictionary))
    /* c8 ignore start: zlib only fails to compress when it runs out of memory */
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error))
  }
  /* c8 ignore stop */
  return stripDeflateTail(output)
}

/**
 * Compresses `data` in Node's thread pool and calls back with the payload or an Error. Node
 * copies `dictionary` when the job starts, so the caller may change it afterwards.
 */
export function deflateMessageAsync (
  data: Buffer,
  windowBits: number,
  settings: DeflateZlibSettings,
  dictionary: Buffer | undefined,
  callback: (result: Buffer | Error) => void
): void {
  zlib.deflateRaw(data, optionsFor(windowBits, settings, dictionary), (error, output) => {
    /* c8 ignore start: zlib only fails to compress when it runs out of memory */
    if (error !== null) {
      callback(error)
      return
    }
    /* c8 ignore stop */
    callback(stripDeflateTail(output))
  })
}
