import diagnosticsChannel from 'node:diagnostics_channel'
import type { WebSocket } from './websocket.js'

/**
 * `node:diagnostics_channel` channels, for metrics and tracing without wrapping the API (the
 * way undici and Fastify itself publish). Subscribe with
 * `diagnosticsChannel.subscribe(channels.messageReceived.name, (message) => …)`.
 *
 * Every publisher checks `hasSubscribers` first: with nobody listening, no payload object is
 * built and the cost is one property read.
 */

/** Who ended a connection. */
export type CloseInitiator =
  /** We sent the first close frame (`close()`, `app.close()`, a policy, an idle timeout). */
  | 'server'
  /** The peer sent the first close frame. */
  | 'client'
  /** No closing handshake: `terminate()`, a dead peer, a reset, or a protocol failure. */
  | 'abnormal'

/** `fastify-websocket-native:connection:opened`. */
export interface ConnectionOpenedMessage {
  socket: WebSocket
  /** The route's URL pattern (`/rooms/:room`), or undefined for a client socket. */
  route: string | undefined
  protocol: string
  extensions: string
}

/** `fastify-websocket-native:connection:closed`. */
export interface ConnectionClosedMessage {
  socket: WebSocket
  route: string | undefined
  /** The close code the socket reported (1005, 1006 included). */
  code: number
  /** Who ended it. */
  initiator: CloseInitiator
  /** Milliseconds from open to close. */
  durationMs: number
}

/** `fastify-websocket-native:message:received` and `…:message:sent`. */
export interface MessageTrafficMessage {
  socket: WebSocket
  /** Payload bytes (decompressed, for a compressed message). */
  size: number
  binary: boolean
  /** Whether it travelled compressed (permessage-deflate). */
  compressed: boolean
}

/** `fastify-websocket-native:protocol:error`. */
export interface ProtocolErrorMessage {
  socket: WebSocket
  /** The stable code (`WS_ERR_…`). */
  code: string
  /** The close code the connection was failed with. */
  closeCode: number
}

/** `fastify-websocket-native:backpressure`. */
export interface BackpressureMessage {
  socket: WebSocket
  /** What happened: the message was dropped, or the connection closed with 1008. */
  policy: 'close' | 'drop'
  /** Bytes queued when it fired. */
  bufferedAmount: number
}

/** `fastify-websocket-native:handshake:refused`. */
export interface HandshakeRefusedMessage {
  /** The HTTP status the upgrade was answered with (400, 401, 403, 404, 426, 503...). */
  status: number
  /** The request URL. */
  url: string | undefined
}

const PREFIX = 'fastify-websocket-native:'

/** The channels, by what they report. Names are `fastify-websocket-native:<what>`. */
export const channels = {
  connectionOpened: diagnosticsChannel.channel(`${PREFIX}connection:opened`),
  connectionClosed: diagnosticsChannel.channel(`${PREFIX}connection:closed`),
  messageReceived: diagnosticsChannel.channel(`${PREFIX}message:received`),
  messageSent: diagnosticsChannel.channel(`${PREFIX}message:sent`),
  protocolError: diagnosticsChannel.channel(`${PREFIX}protocol:error`),
  backpressure: diagnosticsChannel.channel(`${PREFIX}backpressure`),
  handshakeRefused: diagnosticsChannel.channel(`${PREFIX}handshake:refused`)
} as const
