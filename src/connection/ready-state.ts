/**
 * WHATWG WebSocket `readyState` values, shared with `ws` and browsers.
 * - CONNECTING: the opening handshake is in progress (client sockets only).
 * - OPEN: messages flow both ways.
 * - CLOSING: a close frame was sent or received, the connection failed, or it is being torn down.
 * - CLOSED: the transport is closed and 'close' has been emitted.
 */
export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3
} as const
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState]
