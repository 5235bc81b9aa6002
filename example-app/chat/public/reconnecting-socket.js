// A WebSocket that comes back: when the connection drops (a server restart, a network blip) it
// reconnects after a capped exponential backoff with jitter, so a restarted server is not hit by
// every browser at the same instant, and a server that stays down is retried less and less often.

/** @typedef {'connecting' | 'connected' | 'disconnected'} ConnectionState */

/**
 * The backoff: the n-th retry in a row waits between half and all of
 * min(maxDelayMs, initialDelayMs × 2ⁿ) ("equal jitter"). A connection that stayed open for
 * stableMs starts the count again; one that closes sooner counts as a failure, so a server that
 * accepts and drops at once is not hammered.
 */
export const BACKOFF = Object.freeze({ initialDelayMs: 500, maxDelayMs: 10_000, stableMs: 5_000 })

/**
 * Close codes after which reconnecting would only repeat the failure: what we sent was refused
 * (1003 unsupported data, 1007 invalid data, 1009 too big) or a policy forbids us (1008).
 */
const FINAL_CLOSE_CODES = new Set([1003, 1007, 1008, 1009])

/**
 * @typedef {object} ReconnectingSocketHandlers
 * @property {(data: string) => void} onMessage each text message
 * @property {(state: ConnectionState, detail: string) => void} onState each change of state
 * @property {(handshakeFailed: boolean) => Promise<void>} [beforeRetry] runs before each retry;
 *   `handshakeFailed` when the last attempt never opened (the server refused it, or was down)
 */

export class ReconnectingSocket {
  /** @type {WebSocket | undefined} */
  #socket
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #retryTimer
  #attempt = 0
  #stopped = false
  #url
  #handlers

  /**
   * @param {string} url the ws:// or wss:// URL (the same one every time: no one-time token in it)
   * @param {ReconnectingSocketHandlers} handlers
   */
  constructor (url, handlers) {
    this.#url = url
    this.#handlers = handlers
    this.#connect()
  }

  /** Sends `text` if connected; false if not (nothing is queued while disconnected). */
  send (/** @type {string} */ text) {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false
    this.#socket.send(text)
    return true
  }

  /** Closes for good (1000): no more retries, and no more calls to the handlers. */
  stop () {
    this.#stopped = true
    clearTimeout(this.#retryTimer)
    this.#socket?.close(1000, 'bye')
    this.#socket = undefined
  }

  #connect () {
    this.#handlers.onState('connecting', this.#attempt === 0 ? '' : `attempt ${this.#attempt + 1}`)
    const socket = new WebSocket(this.#url)
    this.#socket = socket
    let openedAt = 0
    // Events of a socket that stop() let go of (it closes asynchronously) are ignored, so a
    // page that moved to another room hears nothing more from the old one.
    socket.addEventListener('open', () => {
      if (this.#socket !== socket) return
      openedAt = Date.now()
      this.#handlers.onState('connected', '')
    })
    socket.addEventListener('message', (event) => {
      if (this.#socket === socket && typeof event.data === 'string') this.#handlers.onMessage(event.data)
    })
    socket.addEventListener('close', (event) => {
      if (this.#socket !== socket) return
      this.#socket = undefined
      if (FINAL_CLOSE_CODES.has(event.code)) {
        this.#handlers.onState('disconnected', `closed by the server: ${event.reason || event.code} (reload to try again)`)
        return
      }
      if (openedAt !== 0 && Date.now() - openedAt >= BACKOFF.stableMs) this.#attempt = 0
      this.#scheduleRetry(openedAt === 0)
    })
  }

  /** @param {boolean} handshakeFailed */
  #scheduleRetry (handshakeFailed) {
    const ceiling = Math.min(BACKOFF.maxDelayMs, BACKOFF.initialDelayMs * 2 ** this.#attempt)
    const delay = Math.round(ceiling / 2 + Math.random() * ceiling / 2)
    this.#attempt++
    this.#handlers.onState('disconnected', `retrying in ${(delay / 1000).toFixed(1)} s`)
    this.#retryTimer = setTimeout(() => {
      const ready = this.#handlers.beforeRetry?.(handshakeFailed) ?? Promise.resolve()
      ready.catch(() => {}).finally(() => { if (!this.#stopped) this.#connect() })
    }, delay)
  }
}
