import { deflateDirections, type PerMessageDeflateParams } from '../protocol/permessage-deflate-negotiation.js'
import type { ResolvedPerMessageDeflate } from './deflate-options.js'
import { MessageDeflater, messageDeflaterOptions } from './message-deflater.js'
import { MessageInflater } from './message-inflater.js'
import type { ZlibConcurrencyLimiter } from './zlib-concurrency.js'

/** One connection's compression, both directions. */
export interface DeflateCodecs {
  /** For messages that arrive with RSV1 set. */
  inflater: MessageInflater
  /** For messages we send (those `deflater.shouldCompress` accepts). */
  deflater: MessageDeflater
}

/**
 * Builds the inflater and deflater of one connection from the resolved option, the agreed
 * parameters and our role, so the two directions cannot be swapped by mistake (the server
 * inflates with the client's window and takeover, and deflates with its own). Allocates no
 * zlib state: history buffers appear with the first compressed message of each direction.
 */
export function createDeflateCodecs (
  resolved: ResolvedPerMessageDeflate,
  params: PerMessageDeflateParams,
  role: 'server' | 'client',
  limits: { maxMessageSize: number, limiter: ZlibConcurrencyLimiter }
): DeflateCodecs {
  const directions = deflateDirections(params, role)
  return {
    inflater: new MessageInflater({
      windowBits: directions.receiveWindowBits,
      contextTakeover: directions.receiveContextTakeover,
      maxMessageSize: limits.maxMessageSize,
      limiter: limits.limiter,
      chunkSize: resolved.zlibInflateOptions.chunkSize
    }),
    deflater: new MessageDeflater(messageDeflaterOptions(resolved, directions.sendWindowBits, directions.sendContextTakeover, limits.limiter))
  }
}
