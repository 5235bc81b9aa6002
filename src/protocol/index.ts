/** The sans-I/O protocol layer: everything RFC 6455 says about bytes, with no I/O. */
export * from './constants.js'
export * from './errors.js'
export * from './limits.js'
export { applyMask, copyMasked, randomMaskKey } from './mask.js'
export { Utf8Validator, isValidUtf8 } from './utf8-validator.js'
export { ChunkQueue } from './chunk-queue.js'
export { FrameParser, type FrameSink, type FrameParserOptions } from './frame-parser.js'
export { encodeFrame, writeFrameHeader, headerSize, MAX_HEADER_SIZE } from './frame-serializer.js'
export { parseClosePayload, encodeClosePayload, truncateCloseReason, type ClosePayload } from './close-frame.js'
export { MessageAssembler } from './message-assembler.js'
export { isToken, isHeaderValue, parseTokenList, hasToken } from './header-tokens.js'
export * from './handshake.js'
export { WebSocketProtocol, ProtocolEvent, type ProtocolState, type TransportAction, type FrameOutput, type ProtocolOptions } from './protocol.js'
export {
  generateClientKey,
  buildClientRequest,
  parseResponseHead,
  findHeadEnd,
  decodeChunked,
  validateServerHandshake,
  type ClientRequestOptions,
  type HttpResponseHead,
  type ServerHandshakeResult
} from './client-handshake.js'
export * from './permessage-deflate-negotiation.js'
