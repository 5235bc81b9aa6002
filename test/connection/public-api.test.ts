/**
 * The socket users hold shows the documented API only (the README's table): no protocol
 * callbacks, no raw transport writes. The type side is pinned in test/types/plugin.types.ts.
 */
import t from 'tap'
import { EventEmitter } from 'node:events'
import { WebSocket } from '../../src/index.js'
import { createDuplexPair, createWebSocket } from '../../src/connection/index.js'

const DOCUMENTED = [
  'constructor', 'readyState', 'bufferedAmount', 'isPaused', 'send', 'sendJSON', 'subscribe', 'unsubscribe', 'topics',
  'ping', 'pong', 'close', 'terminate', 'pause', 'resume',
  // The readyState constants, on the prototype as `ws` has them (not four fields per socket).
  'CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'
]

t.test('WebSocket.prototype has the documented members and nothing else', async (t) => {
  t.same(Object.getOwnPropertyNames(WebSocket.prototype).sort(), [...DOCUMENTED].sort())
  t.same(Object.getOwnPropertySymbols(WebSocket.prototype), [Symbol.asyncIterator])
})

t.test('an instance adds only the documented fields, and inherits EventEmitter', async (t) => {
  const [end, peer] = createDuplexPair()
  const socket = createWebSocket(end)
  t.teardown(() => { socket.terminate(); peer.destroy() })
  const own = Object.keys(socket).filter((key) => !(key in new EventEmitter()))
  t.same(own.sort(), ['extensions', 'protocol'])
  t.same([socket.CONNECTING, socket.OPEN, socket.CLOSING, socket.CLOSED], [0, 1, 2, 3], 'the constants read through the prototype')
  t.same([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3])
  for (const internal of ['write', 'onClose', 'onMessage', 'sendEncoded', 'releaseEvents', 'onProtocolError']) {
    t.notOk(internal in socket, `no ${internal}`)
  }
})
