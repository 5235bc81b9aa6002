/** The Fastify integration. */
export { websocket } from './plugin.js'
export type { WebSocketPluginOptions, WebSocketRouteOptions, WebSocketConnectionOptions, SelectProtocol, WebSocketErrorHandler } from './options.js'
export type { WebSocketHandler, WebSocketServerView } from './types.js'
export type { WebSocketServerStats } from './server-stats.js'
export { FastifyWebSocketConfigError, ConfigErrorCode } from './errors.js'
export type { InjectWSOptions, InjectWSHooks } from './inject-ws.js'
