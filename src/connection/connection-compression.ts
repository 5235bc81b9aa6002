import {
  PENDING,
  createDeflateCodecs,
  type DeflateOutcome,
  type InflateOutcome,
  type MessageDeflater,
  type MessageInflater,
  type ResolvedPerMessageDeflate,
  type ZlibConcurrencyLimiter
} from '../compression/index.js'
import { WebSocketStateError, type PerMessageDeflateParams } from '../protocol/index.js'
import type { PublishedMessage } from './published-message.js'
import type { SendCallback } from './websocket-options.js'

/** What a connection needs to run permessage-deflate (RFC 7692) once it was negotiated. */
export interface NegotiatedDeflate {
  /** The validated `perMessageDeflate` option of the route (or client). */
  options: ResolvedPerMessageDeflate
  /** The parameters both ends agreed on. */
  params: PerMessageDeflateParams
  /** The thread-pool bound shared by the plugin's (or the clients') connections. */
  limiter: ZlibConcurrencyLimiter
  /** The agreed `Sec-WebSocket-Extensions` value, shown as `socket.extensions`. */
  header: string
}

/** The parts of a connection this class drives. */
export interface CompressionHost {
  /** Writes a data frame now (`compressed` sets RSV1). */
  writeMessage: (payload: Buffer | string, binary: boolean, fin: boolean, compressed: boolean, callback: SendCallback | undefined) => unknown
  /** Writes pre-encoded frame chunks now (publish). */
  writeEncoded: (chunks: Buffer[]) => void
  /** Whether frames may still be written (not closed meanwhile). */
  canWrite: () => boolean
  /** Compression failed on our side (zlib out of memory): fail the connection with 1011. */
  compressionFailed: (error: Error) => void
  /** Everything queued is written: a close that waited for it may go now. */
  queueDrained: () => void
  /** A compressed message arrived decompressed (or failed), after a wait in the thread pool. */
  inflated: (outcome: InflateOutcome) => void
}

/**
 * One entry of the outgoing queue. While a message is being compressed in the thread pool,
 * every data frame sent after it waits here, compressed or not, so messages keep their order
 * on the wire (control frames do not wait: they may go between messages, RFC 6455 §5.4).
 */
interface QueuedSend {
  /** False while its compression runs; it holds back every entry behind it. */
  ready: boolean
  /** The payload to frame (compressed once `ready`), or null for pre-encoded chunks. */
  payload: Buffer | string | null
  chunks: Buffer[] | null
  binary: boolean
  fin: boolean
  compressed: boolean
  /** Uncompressed bytes, counted in the socket's `bufferedAmount` until written. */
  bytes: number
  callback: SendCallback | undefined
  /** For a published message: its compressed frame is encoded once per distinct result. */
  published: PublishedMessage | null
}

/**
 * A connection's permessage-deflate: compresses what it sends (when `threshold` allows and the
 * message is whole), inflates what arrives with RSV1, and keeps data frames in order while the
 * thread pool works. Created only when the extension was negotiated; holds no zlib state
 * between messages (see MessageInflater, MessageDeflater).
 */
export class ConnectionCompression {
  readonly inflater: MessageInflater
  readonly deflater: MessageDeflater
  readonly header: string
  private readonly host: CompressionHost
  private queue: QueuedSend[] = []
  /** Bytes of queued messages not written yet. */
  queuedBytes = 0
  /** Shared callbacks (one per connection, not one per message). */
  private readonly onInflated: (outcome: InflateOutcome) => void

  constructor (negotiated: NegotiatedDeflate, role: 'server' | 'client', maxMessageSize: number, host: CompressionHost) {
    const codecs = createDeflateCodecs(negotiated.options, negotiated.params, role, { maxMessageSize, limiter: negotiated.limiter })
    this.inflater = codecs.inflater
    this.deflater = codecs.deflater
    this.header = negotiated.header
    this.host = host
    this.onInflated = (outcome) => host.inflated(outcome)
  }

  /** A message is being compressed, or data frames wait behind one: new sends must queue. */
  get busy (): boolean {
    return this.queue.length > 0
  }

  /** Whether a whole message of `byteLength` bytes is sent compressed (`threshold`). */
  shouldCompress (byteLength: number): boolean {
    return this.deflater.shouldCompress(byteLength)
  }

  /**
   * Decompresses a message that arrived with RSV1. Returns the outcome now, or PENDING: the
   * host's `inflated` is then called once, later (and the host must not deliver meanwhile).
   */
  inflate (data: Buffer, isText: boolean): InflateOutcome | typeof PENDING {
    return this.inflater.inflate(data, isText, this.onInflated)
  }

  /** Sends a data message: compressed when `compress`, queued while the queue is busy. */
  send (payload: Buffer | string, binary: boolean, fin: boolean, compress: boolean, callback: SendCallback | undefined): void {
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
    if (!compress) {
      if (!this.busy) {
        this.host.writeMessage(payload, binary, fin, false, callback)
        return
      }
      return this.enqueue({ ready: true, payload, chunks: null, binary, fin, compressed: false, bytes, callback, published: null })
    }
    const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
    const entry: QueuedSend = { ready: false, payload: null, chunks: null, binary, fin: true, compressed: true, bytes, callback, published: null }
    const outcome = this.deflater.deflate(data, (result) => this.compressed(entry, result))
    if (outcome === PENDING) return this.enqueue(entry)
    this.writeNowOrQueue(entry, outcome)
  }

  /**
   * Sends a published message: compressed once for every socket with the same settings when
   * this socket has no context takeover for what it sends, else for this socket alone.
   */
  sendPublished (message: PublishedMessage): void {
    const compress = this.shouldCompress(message.payload.length)
    if (!compress) {
      const chunks = message.plainFrame()
      if (!this.busy) return this.host.writeEncoded(chunks)
      return this.enqueue({ ready: true, payload: null, chunks, binary: message.binary, fin: true, compressed: false, bytes: message.payload.length, callback: undefined, published: null })
    }
    const entry: QueuedSend = { ready: false, payload: null, chunks: null, binary: message.binary, fin: true, compressed: true, bytes: message.payload.length, callback: undefined, published: message }
    const done = (result: DeflateOutcome): void => this.compressed(entry, result)
    const outcome = this.deflater.sharingKey === null
      ? this.deflater.deflate(message.payload, done)
      : this.deflater.deflateShared(message.shared(), done)
    if (outcome === PENDING) return this.enqueue(entry)
    this.writeNowOrQueue(entry, outcome)
  }

  /** The connection is gone: drops queued messages (their callbacks get an error) and history. */
  close (): void {
    this.inflater.close()
    this.deflater.close()
    const dropped = this.queue
    this.queue = []
    this.queuedBytes = 0
    for (const entry of dropped) {
      if (entry.callback !== undefined) process.nextTick(entry.callback, new WebSocketStateError('the connection closed before the message was sent'))
    }
  }

  private enqueue (entry: QueuedSend): void {
    this.queue.push(entry)
    this.queuedBytes += entry.bytes
  }

  /** A compression finished synchronously: written now unless older messages still wait. */
  private writeNowOrQueue (entry: QueuedSend, outcome: DeflateOutcome): void {
    if (this.busy) {
      this.settle(entry, outcome)
      this.enqueue(entry)
      this.flush()
      return
    }
    this.settle(entry, outcome)
    this.write(entry)
  }

  /** A compression from the thread pool finished: write what is ready, in order. */
  private compressed (entry: QueuedSend, outcome: DeflateOutcome): void {
    this.settle(entry, outcome)
    this.flush()
  }

  private settle (entry: QueuedSend, outcome: DeflateOutcome): void {
    entry.ready = true
    if (outcome instanceof Error) {
      // Never for any input: zlib ran out of memory. The message is not sent.
      /* c8 ignore next 3 */
      entry.payload = null
      this.host.compressionFailed(outcome)
      return
    }
    entry.payload = outcome
  }

  private flush (): void {
    const queue = this.queue
    let index = 0
    while (index < queue.length && queue[index].ready) {
      const entry = queue[index++]
      this.queuedBytes -= entry.bytes
      this.write(entry)
    }
    if (index > 0) this.queue = queue.slice(index)
    if (this.queue.length === 0) this.host.queueDrained()
  }

  private write (entry: QueuedSend): void {
    if (!this.host.canWrite()) {
      if (entry.callback !== undefined) process.nextTick(entry.callback, new WebSocketStateError('the connection closed before the message was sent'))
      return
    }
    if (entry.chunks !== null) return this.host.writeEncoded(entry.chunks)
    /* c8 ignore next */
    if (entry.payload === null) return // compression failed; the connection is failing
    if (entry.published !== null && entry.compressed) return this.host.writeEncoded(entry.published.compressedFrame(entry.payload as Buffer))
    this.host.writeMessage(entry.payload, entry.binary, entry.fin, entry.compressed, entry.callback)
  }
}
