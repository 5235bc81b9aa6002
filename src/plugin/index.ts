/** The Fastify integration. */
export { websocket } from './plugin.js'
export type { WebSocketPluginOptions, WebSocketRouteOptions, WebSocketConnectionOptions, SelectProtocol, WebSocketErrorHandler } from './options.js'
export type { WebSocketHandler, WebSocketServerView, WebSocketServerEvents, TypedMessageArgs, TypedOutgoing, TypedMessageRouteOptions } from './types.js'
export type { AllowedOrigins } from './origin-policy.js'
// @fastify/websocket's type names, so its TypeScript users switch with the package name alone.
export type { WebSocketHandler as WebsocketHandler } from './types.js'
export type { WebSocketPluginOptions as WebsocketPluginOptions } from './options.js'
export type { WsServerOptions, VerifyClient, VerifyClientInfo, VerifyClientCallback, VerifyClientSync, VerifyClientAsync } from './ws-options.js'
export type { WebSocketServerStats } from './server-stats.js'
export { FastifyWebSocketConfigError, ConfigErrorCode } from './errors.js'
export type { InjectWSOptions, InjectWSHooks } from './inject-ws.js'
