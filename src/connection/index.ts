/** The connection layer: binds the protocol to a Node Duplex. */
export { WebSocket, DEFAULT_CLOSE_TIMEOUT, type WebSocketData, type WebSocketEvents, type WebSocketOptions, type WebSocketSendOptions, type SendCallback } from './websocket.js'
export { ReadyState } from './ready-state.js'
export { SocketWriter } from './socket-writer.js'
