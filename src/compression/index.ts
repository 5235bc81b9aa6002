/**
 * permessage-deflate (RFC 7692): options, the per-connection inflater and deflater, shared
 * compression for publish, and the thread-pool limiter. Negotiation lives in
 * src/protocol/permessage-deflate-negotiation.ts (pure header work).
 */
export {
  resolvePerMessageDeflate,
  DEFAULT_DEFLATE_THRESHOLD,
  DEFAULT_CONCURRENCY_LIMIT,
  DEFAULT_ZLIB_CHUNK_SIZE,
  type PerMessageDeflateOptions,
  type ResolvedPerMessageDeflate,
  type ZlibDeflateOptions,
  type ZlibInflateOptions
} from './deflate-options.js'
export { invalidCompressedData, decompressionFailed } from './compression-errors.js'
export { PENDING, type Pending } from './pending.js'
export { ZlibConcurrencyLimiter } from './zlib-concurrency.js'
export { HistoryWindow } from './history-window.js'
export {
  MessageInflater,
  maxCompressedPayloadSize,
  SYNC_INFLATE_MAX_INPUT,
  SYNC_INFLATE_MAX_OUTPUT,
  type MessageInflaterOptions,
  type InflateOutcome,
  type InflateCallback
} from './message-inflater.js'
export {
  MessageDeflater,
  messageDeflaterOptions,
  SYNC_DEFLATE_MAX_INPUT,
  DEFLATE_MIN_DICTIONARY,
  type MessageDeflaterOptions,
  type DeflateOutcome,
  type DeflateCallback
} from './message-deflater.js'
export { SharedMessageDeflate } from './shared-message-deflate.js'
export { createDeflateCodecs, type DeflateCodecs } from './deflate-codecs.js'
export { DEFLATE_TAIL, zlibDeflateWindowBits, stripDeflateTail } from './raw-deflate.js'
