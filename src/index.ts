/**
 * RFC 6455 WebSockets for Fastify 5, on this package's own codec.
 *
 *   import websocket from 'fastify-websocket-native'
 *   await app.register(websocket)
 *   app.get('/ws', { websocket: true }, (socket, request) => { ... })
 */
import { websocket } from './plugin/index.js'

export default websocket
export { websocket }
/**
 * The plugin under @fastify/websocket's named export, so `import { fastifyWebsocket } from
 * '@fastify/websocket'` (or `require('@fastify/websocket').fastifyWebsocket`) switches with the
 * package name alone. Unlike @fastify/websocket's, it is the `fastify-plugin`-wrapped plugin,
 * as the default export is: registering it is never encapsulated.
 */
export { websocket as fastifyWebsocket }
export * from './plugin/index.js'
export { WebSocket, ReadyState, DEFAULT_CLOSE_TIMEOUT, connect, WebSocketHandshakeError, createDuplexPair } from './connection/index.js'
export type { ClientOptions, PublishOptions, WebSocketMessage, BackpressurePolicy } from './connection/index.js'
export type { WebSocketData, WebSocketEvents, WebSocketSendOptions, SendCallback, MessageArgs, RawMessageArgs } from './connection/index.js'
export { InvalidMessageError, type InvalidMessagePolicy } from './connection/index.js'
export type { PerMessageDeflateOptions, ZlibDeflateOptions, ZlibInflateOptions } from './compression/index.js'
export { memoryAdapter, MemoryBus, type MemoryAdapterOptions, type TopicAdapter, type TopicAdapterContext, type TopicAdapterLogger, type TopicAdapterState, type TopicAdapterStats } from './adapters/index.js'
export { diagnosticsChannels } from './connection/index.js'
export type { CloseInitiator, ConnectionOpenedMessage, ConnectionClosedMessage, MessageTrafficMessage, ProtocolErrorMessage, BackpressureMessage, HandshakeRefusedMessage } from './connection/index.js'
export {
  CloseCode,
  Opcode,
  WEBSOCKET_GUID,
  ProtocolErrorCode,
  WebSocketProtocolError,
  WebSocketStateError,
  DEFAULT_MAX_MESSAGE_SIZE,
  computeAcceptKey,
  validateClientHandshake,
  isSendableCloseCode
} from './protocol/index.js'
