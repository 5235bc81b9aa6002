/** The connection layer: binds the protocol to a Node Duplex. */
export { WebSocket, DEFAULT_CLOSE_TIMEOUT, type WebSocketData, type WebSocketEvents, type WebSocketOptions, type WebSocketSendOptions, type SendCallback } from './websocket.js'
export { ReadyState } from './ready-state.js'
export { SocketWriter } from './socket-writer.js'
export { createDuplexPair } from './duplex-pair.js'
export { connect, openClient, type ClientOptions, type OpenClientOptions } from './client.js'
export { WebSocketHandshakeError } from './handshake-error.js'
