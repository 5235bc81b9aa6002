/** The Fastify integration. */
export { websocket } from './plugin.js'
export type { WebSocketPluginOptions, WebSocketRouteOptions, WebSocketConnectionOptions, SelectProtocol, WebSocketErrorHandler } from './options.js'
export type { WebSocketHandler, WebSocketServerView, WebSocketServerEvents } from './types.js'
export type { WsServerOptions, VerifyClientInfo, VerifyClientCallback, VerifyClientSync, VerifyClientAsync } from './ws-options.js'
export { FastifyWebSocketConfigError, ConfigErrorCode } from './errors.js'
export type { InjectWSOptions, InjectWSHooks } from './inject-ws.js'
