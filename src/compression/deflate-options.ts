import {
  MAX_WINDOW_BITS,
  MIN_WINDOW_BITS,
  type PerMessageDeflateConfig
} from '../protocol/permessage-deflate-negotiation.js'

/**
 * zlib settings for compressing outgoing messages. Only the knobs that do not change the wire
 * format are accepted: the window size is negotiated (`serverMaxWindowBits` /
 * `clientMaxWindowBits`), and flushing and dictionaries are how RFC 7692 works.
 */
export interface ZlibDeflateOptions {
  /**
   * zlib compression level, 0 (store) to 9 (smallest), or -1 for zlib's default (6). Each
   * step up costs CPU for a few percent of size; 1 is about half the CPU of 6 on JSON.
   * @default -1
   */
  level?: number
  /**
   * zlib memLevel, 1..9: the size of the compressor's hash table (2^(memLevel+9) bytes plus
   * 2^(memLevel+8) of pending output). Held only while a message is being compressed, never
   * between messages. @default 8 (about 256 KiB of zlib state per message in flight)
   */
  memLevel?: number
  /** zlib strategy, 0..4 (`zlib.constants.Z_DEFAULT_STRATEGY` ... `Z_FIXED`). @default 0 */
  strategy?: number
  /** Bytes per zlib output chunk (at least 64). @default 16384 */
  chunkSize?: number
}

/** zlib settings for decompressing incoming messages. */
export interface ZlibInflateOptions {
  /**
   * Bytes per zlib output chunk (at least 64) when a large message is decompressed in the
   * thread pool. The size limit and UTF-8 are checked after every chunk, so a message over
   * `maxMessageSize` stops after at most this many extra bytes. @default 16384
   */
  chunkSize?: number
}

/**
 * The `perMessageDeflate` option, with the names and meaning of `ws`'s: `false` (the default)
 * turns compression off, `true` turns it on with the defaults below, an object turns it on
 * with the fields given. RFC 7692 permessage-deflate.
 *
 * Cost, per connection that negotiated compression (measured, see the README): nothing is
 * allocated until the first compressed message in each direction. Then, for each direction
 * where context takeover is in force, a history buffer of up to 2^windowBits bytes (32 KiB at
 * the default 15) is kept; with no context takeover nothing is kept between messages. zlib
 * state (about 256 KiB to compress at memLevel 8, about 40 KiB to decompress) exists only
 * while a message is being processed, so at most `concurrencyLimit` of them exist in the
 * thread pool at once, plus one at a time on the main thread.
 */
export interface PerMessageDeflateOptions {
  /**
   * Outgoing messages smaller than this many bytes are sent uncompressed: on small payloads
   * deflate saves little and costs about 10 µs of CPU per message. `Infinity` never compresses
   * what we send while still accepting compressed messages. @default 1024
   */
  threshold?: number
  /**
   * Server: never use context takeover for what the server sends (RFC 7692 §7.1.1.1), and tell
   * the client so. Costs compression ratio on streams of similar messages; saves the 32 KiB
   * send-side history per connection, and lets `publish` compress a message once for all
   * subscribers. Client: ask the server for this. @default false
   */
  serverNoContextTakeover?: boolean
  /**
   * Server: ask the client not to use context takeover (RFC 7692 §7.1.1.2), which saves the
   * 32 KiB receive-side history per connection. Client: never use it. @default false
   */
  clientNoContextTakeover?: boolean
  /**
   * Largest LZ77 window, as bits (8..15), for the server's compressor (RFC 7692 §7.1.2.1).
   * Server: the window we use is at most this (and at most what the client asked). Client: ask
   * the server for it; a server that answers with more fails the handshake. A smaller window
   * saves history memory (2^bits bytes) and compresses a little worse. @default 15
   */
  serverMaxWindowBits?: number
  /**
   * Largest LZ77 window, as bits (8..15), for the client's compressor (RFC 7692 §7.1.2.2).
   * Server: a value under 15 asks the client to keep within it; an offer from a client that
   * cannot be asked (no `client_max_window_bits` in its offer) is then declined, and that
   * connection goes on uncompressed. Client: our own limit, offered to the server. `true`
   * means 15 (as in `ws`, where it offers the parameter without a value). @default 15
   */
  clientMaxWindowBits?: number | true
  /** Options for the compressor; see `ZlibDeflateOptions`. @default {} */
  zlibDeflateOptions?: ZlibDeflateOptions
  /** Options for the decompressor; see `ZlibInflateOptions`. @default {} */
  zlibInflateOptions?: ZlibInflateOptions
  /**
   * Most zlib jobs (one message each) running in Node's thread pool at once, for all the
   * connections of one plugin instance; the rest wait their turn. Small messages are
   * (de)compressed on the main thread and do not count. Keeps a flood of large compressed
   * messages from starving `fs`, `dns.lookup` and `crypto`, which share the pool.
   * `Infinity` removes the bound. @default 10
   */
  concurrencyLimit?: number
}

/** Validated `perMessageDeflate`, with every default applied. Frozen. */
export interface ResolvedPerMessageDeflate extends PerMessageDeflateConfig {
  threshold: number
  zlibDeflateOptions: Readonly<Required<Pick<ZlibDeflateOptions, 'level' | 'memLevel' | 'strategy' | 'chunkSize'>>>
  zlibInflateOptions: Readonly<Required<ZlibInflateOptions>>
  concurrencyLimit: number
}

/** @see PerMessageDeflateOptions.threshold */
export const DEFAULT_DEFLATE_THRESHOLD = 1024
/** @see PerMessageDeflateOptions.concurrencyLimit */
export const DEFAULT_CONCURRENCY_LIMIT = 10
/** Node's zlib default output chunk. */
export const DEFAULT_ZLIB_CHUNK_SIZE = 16 * 1024
/** Node's smallest zlib chunk (`zlib.constants.Z_MIN_CHUNK`). */
const MIN_ZLIB_CHUNK_SIZE = 64

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'threshold', 'serverNoContextTakeover', 'clientNoContextTakeover', 'serverMaxWindowBits',
  'clientMaxWindowBits', 'zlibDeflateOptions', 'zlibInflateOptions', 'concurrencyLimit'
])
const DEFLATE_KEYS: ReadonlySet<string> = new Set(['level', 'memLevel', 'strategy', 'chunkSize'])
const INFLATE_KEYS: ReadonlySet<string> = new Set(['chunkSize'])

/** Keys of zlib options we set ourselves: naming them is refused with the reason. */
const RESERVED_ZLIB_KEYS: Readonly<Record<string, string>> = {
  windowBits: 'the window is negotiated: use serverMaxWindowBits / clientMaxWindowBits',
  dictionary: 'the dictionary is the previous messages (context takeover), so a custom one would break the peer',
  flush: 'RFC 7692 fixes how messages are flushed',
  finishFlush: 'RFC 7692 fixes how messages are flushed',
  maxOutputLength: 'the decompressed size is limited by maxMessageSize',
  info: 'not applicable'
}

/**
 * Validates and completes the `perMessageDeflate` option. Returns null when compression is off
 * (`false` or `undefined`). Throws a TypeError (wrong type, unknown field) or RangeError
 * (value out of range) whose message names the field, e.g.
 * `perMessageDeflate.serverMaxWindowBits must be an integer from 8 to 15, got 16`.
 * The object passed in is never modified.
 */
export function resolvePerMessageDeflate (
  value: boolean | PerMessageDeflateOptions | undefined,
  name = 'perMessageDeflate'
): ResolvedPerMessageDeflate | null {
  if (value === undefined || value === false) return null
  const candidate: unknown = value === true ? {} : value
  if (!isPlainObject(candidate)) throw new TypeError(`${name} must be a boolean or an object, got ${describe(value)}`)
  const options = candidate as PerMessageDeflateOptions
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError(`${name}.${key} is not a permessage-deflate option`)
  }
  const threshold = options.threshold ?? DEFAULT_DEFLATE_THRESHOLD
  if (threshold !== Infinity && !(Number.isSafeInteger(threshold) && threshold >= 0)) {
    throw rangeOrType(`${name}.threshold`, 'a non-negative integer (bytes) or Infinity', threshold)
  }
  const concurrencyLimit = options.concurrencyLimit ?? DEFAULT_CONCURRENCY_LIMIT
  if (concurrencyLimit !== Infinity && !(Number.isSafeInteger(concurrencyLimit) && concurrencyLimit >= 1)) {
    throw rangeOrType(`${name}.concurrencyLimit`, 'a positive integer or Infinity', concurrencyLimit)
  }
  const clientBits = options.clientMaxWindowBits === true ? MAX_WINDOW_BITS : options.clientMaxWindowBits
  const resolved: ResolvedPerMessageDeflate = {
    threshold,
    serverNoContextTakeover: flag(`${name}.serverNoContextTakeover`, options.serverNoContextTakeover),
    clientNoContextTakeover: flag(`${name}.clientNoContextTakeover`, options.clientNoContextTakeover),
    serverMaxWindowBits: windowBits(`${name}.serverMaxWindowBits`, options.serverMaxWindowBits),
    clientMaxWindowBits: windowBits(`${name}.clientMaxWindowBits`, clientBits),
    zlibDeflateOptions: Object.freeze(deflateOptions(`${name}.zlibDeflateOptions`, options.zlibDeflateOptions)),
    zlibInflateOptions: Object.freeze(inflateOptions(`${name}.zlibInflateOptions`, options.zlibInflateOptions)),
    concurrencyLimit
  }
  return Object.freeze(resolved)
}

function flag (name: string, value: unknown): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(value)}`)
  return value
}

function windowBits (name: string, value: unknown): number {
  if (value === undefined) return MAX_WINDOW_BITS
  if (typeof value === 'number' && Number.isInteger(value) && value >= MIN_WINDOW_BITS && value <= MAX_WINDOW_BITS) return value
  throw rangeOrType(name, `an integer from ${MIN_WINDOW_BITS} to ${MAX_WINDOW_BITS}`, value)
}

function deflateOptions (name: string, value: unknown): Required<ZlibDeflateOptions> {
  const options = zlibObject(name, value, DEFLATE_KEYS)
  return {
    level: integerIn(`${name}.level`, options.level, -1, 9, -1),
    memLevel: integerIn(`${name}.memLevel`, options.memLevel, 1, 9, 8),
    strategy: integerIn(`${name}.strategy`, options.strategy, 0, 4, 0),
    chunkSize: integerIn(`${name}.chunkSize`, options.chunkSize, MIN_ZLIB_CHUNK_SIZE, 2 ** 30, DEFAULT_ZLIB_CHUNK_SIZE)
  }
}

function inflateOptions (name: string, value: unknown): Required<ZlibInflateOptions> {
  const options = zlibObject(name, value, INFLATE_KEYS)
  return {
    chunkSize: integerIn(`${name}.chunkSize`, options.chunkSize, MIN_ZLIB_CHUNK_SIZE, 2 ** 30, DEFAULT_ZLIB_CHUNK_SIZE)
  }
}

function zlibObject (name: string, value: unknown, allowed: ReadonlySet<string>): Record<string, unknown> {
  if (value === undefined) return {}
  if (!isPlainObject(value)) throw new TypeError(`${name} must be an object, got ${describe(value)}`)
  for (const key of Object.keys(value)) {
    const reserved = RESERVED_ZLIB_KEYS[key]
    if (reserved !== undefined) throw new TypeError(`${name}.${key} cannot be set: ${reserved}`)
    if (!allowed.has(key)) throw new TypeError(`${name}.${key} is not a supported zlib option (supported: ${[...allowed].join(', ')})`)
  }
  return value
}

function integerIn (name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value
  throw rangeOrType(name, `an integer from ${min} to ${max}`, value)
}

/** A RangeError for a number out of range, a TypeError for anything that is not a number. */
function rangeOrType (name: string, expected: string, value: unknown): Error {
  const message = `${name} must be ${expected}, got ${describe(value)}`
  return typeof value === 'number' ? new RangeError(message) : new TypeError(message)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

function describe (value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (typeof value === 'symbol') return value.toString()
  try {
    return JSON.stringify(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}
