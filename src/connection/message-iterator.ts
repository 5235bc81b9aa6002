import type { Connection } from './connection.js'
import { PauseReason } from './read-flow.js'
import type { WebSocket } from './websocket.js'
import type { MessageArgs, RawMessageArgs } from './websocket-options.js'

/**
 * One message, as `for await (const message of socket)` yields it: `{ data, isBinary }` from
 * the 'message' arguments (a union stays discriminated on `isBinary`).
 */
export type WebSocketMessage<Message extends MessageArgs = RawMessageArgs> =
  Message extends [infer Data, infer IsBinary] ? { data: Data, isBinary: IsBinary } : never

/** Messages queued before reading pauses (and resumes at half of it). */
const HIGH_WATER_MARK = 16

/**
 * Async iteration over a socket's messages. Listening starts when the iterator is created, so
 * nothing is lost before the first `next()`. When the loop falls behind, the iterator adds its
 * own reason to the connection's read flow (the queue holds at most 16 messages) and removes it
 * as it catches up; a `pause()` by the application is its own reason and stays. The loop ends
 * when the socket closes; leaving it early (`break`, `return`, a throw) closes the socket
 * with 1000.
 */
export function createMessageIterator (socket: WebSocket, connection: Connection): AsyncIterableIterator<WebSocketMessage> {
  const queue: WebSocketMessage[] = []
  let waiting: ((result: IteratorResult<WebSocketMessage>) => void) | undefined
  let finished = socket.readyState === socket.CLOSED

  const onMessage = (data: Buffer, isBinary: boolean): void => {
    if (waiting !== undefined) {
      const resolve = waiting
      waiting = undefined
      resolve({ value: { data, isBinary }, done: false })
      return
    }
    queue.push({ data, isBinary })
    if (queue.length >= HIGH_WATER_MARK) connection.flow.add(PauseReason.Iterator)
  }
  const finish = (): void => {
    finished = true
    socket.removeListener('message', onMessage)
    socket.removeListener('close', finish)
    connection.resumeFor(PauseReason.Iterator)
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
        if (queue.length <= HIGH_WATER_MARK / 2) connection.resumeFor(PauseReason.Iterator)
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
