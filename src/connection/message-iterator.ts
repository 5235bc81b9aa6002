import type { WebSocket } from './websocket.js'

/** One message, as `for await (const message of socket)` yields it. */
export interface WebSocketMessage {
  data: Buffer
  isBinary: boolean
}

/** Messages queued before reading pauses (and resumes at half of it). */
const HIGH_WATER_MARK = 16

/**
 * Async iteration over a socket's messages. Listening starts when the iterator is created, so
 * nothing is lost before the first `next()`. When the loop falls behind, reading from the
 * connection pauses (the queue holds at most 16 messages) and resumes as it catches up. The
 * loop ends when the socket closes; leaving it early (`break`, `return`, a throw) closes the
 * socket with 1000.
 */
export function createMessageIterator (socket: WebSocket): AsyncIterableIterator<WebSocketMessage> {
  const queue: WebSocketMessage[] = []
  let waiting: ((result: IteratorResult<WebSocketMessage>) => void) | undefined
  let finished = socket.readyState === socket.CLOSED
  let pausedHere = false

  const onMessage = (data: Buffer, isBinary: boolean): void => {
    if (waiting !== undefined) {
      const resolve = waiting
      waiting = undefined
      resolve({ value: { data, isBinary }, done: false })
      return
    }
    queue.push({ data, isBinary })
    if (queue.length >= HIGH_WATER_MARK && !pausedHere) {
      pausedHere = true
      socket.pause()
    }
  }
  const finish = (): void => {
    finished = true
    socket.removeListener('message', onMessage)
    socket.removeListener('close', finish)
    if (pausedHere) {
      pausedHere = false
      socket.resume()
    }
    if (waiting !== undefined) {
      const resolve = waiting
      waiting = undefined
      resolve({ value: undefined, done: true })
    }
  }
  if (!finished) {
    socket.on('message', onMessage)
    socket.on('close', finish)
  }

  const iterator: AsyncIterableIterator<WebSocketMessage> = {
    async next (): Promise<IteratorResult<WebSocketMessage>> {
      const message = queue.shift()
      if (message !== undefined) {
        if (pausedHere && queue.length <= HIGH_WATER_MARK / 2) {
          pausedHere = false
          socket.resume()
        }
        return { value: message, done: false }
      }
      if (finished) return { value: undefined, done: true }
      return await new Promise((resolve) => { waiting = resolve })
    },
    async return (): Promise<IteratorResult<WebSocketMessage>> {
      queue.length = 0
      const open = !finished
      finish()
      if (open && socket.readyState === socket.OPEN) socket.close(1000)
      return { value: undefined, done: true }
    },
    [Symbol.asyncIterator] () {
      return iterator
    }
  }
  return iterator
}
