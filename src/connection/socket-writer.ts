import type { Duplex } from 'node:stream'

/**
 * Writes frames to the transport, batching everything written in one tick into one system
 * call: the first write of a tick corks the stream and a `process.nextTick` uncorks it, so
 * a burst of sends (or the replies to one incoming chunk) leaves as a single writev.
 * The `write()` system call, not the codec, is the cost of small messages.
 */
export class SocketWriter {
  private readonly stream: Duplex
  private corked = false
  private readonly uncork = (): void => {
    this.corked = false
    this.stream.uncork()
  }

  constructor (stream: Duplex) {
    this.stream = stream
  }

  /** Queues a chunk; returns false when the transport's buffer is over its high-water mark. */
  write (chunk: Buffer, callback?: (error?: Error | null) => void): boolean {
    if (!this.corked) {
      this.corked = true
      this.stream.cork()
      process.nextTick(this.uncork)
    }
    return this.stream.write(chunk, callback)
  }

  /** Bytes accepted but not yet handed to the operating system. */
  get bufferedAmount (): number {
    return this.stream.writableLength
  }
}
