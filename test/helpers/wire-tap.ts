/**
 * Watches the WebSocket frames crossing a real TCP socket without touching them: which frames
 * had RSV1 (compressed), their opcodes, FIN bits and payload lengths. Used where the peer
 * (a `ws` client, Chromium) cannot tell us how it framed a message, and to see what our server
 * wrote. Only headers are kept; payload bytes are skipped, so a 16 MiB message costs nothing.
 */
import type { Socket } from 'node:net'

/** One frame header as it crossed the wire. */
export interface WireFrame {
  fin: boolean
  rsv1: boolean
  rsv2: boolean
  rsv3: boolean
  opcode: number
  masked: boolean
  /** Payload bytes (compressed size for a compressed message). */
  length: number
}

/** A data message reassembled from wire frames (control frames between its frames excluded). */
export interface WireMessage {
  opcode: number
  /** RSV1 on its first frame (RFC 7692 §6.1). */
  compressed: boolean
  frames: WireFrame[]
  /** Payload bytes on the wire, all frames. */
  wireBytes: number
}

/** Incremental frame-header scanner over a byte stream (any chunking). */
export class FrameScanner {
  readonly frames: WireFrame[] = []
  private header = Buffer.alloc(14)
  private headerLength = 0
  private skip = 0
  private readonly waiters: Array<() => void> = []

  /** Feeds bytes as they crossed the wire. */
  push (chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - offset)
        this.skip -= n
        offset += n
        continue
      }
      this.header[this.headerLength++] = chunk[offset++]
      const need = this.headerSize()
      if (need === undefined || this.headerLength < need) continue
      this.finishHeader()
    }
  }

  /** The data messages seen so far, complete ones only. */
  get messages (): WireMessage[] {
    const out: WireMessage[] = []
    let current: WireMessage | undefined
    for (const f of this.frames) {
      if (f.opcode >= 8) continue
      if (f.opcode !== 0) {
        current = { opcode: f.opcode, compressed: f.rsv1, frames: [f], wireBytes: f.length }
      } else if (current !== undefined) {
        current.frames.push(f)
        current.wireBytes += f.length
      }
      if (f.fin && current !== undefined) {
        out.push(current)
        current = undefined
      }
    }
    return out
  }

  /** Waits (bounded) until at least `n` complete data messages were seen. */
  async waitMessages (n: number, timeout = 5000): Promise<WireMessage[]> {
    const deadline = Date.now() + timeout
    while (this.messages.length < n) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${n} messages on the wire (saw ${this.messages.length})`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50))
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
    return this.messages
  }

  private headerSize (): number | undefined {
    if (this.headerLength < 2) return undefined
    const b1 = this.header[1]
    const code = b1 & 0x7f
    return 2 + (code === 126 ? 2 : code === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0)
  }

  private finishHeader (): void {
    const h = this.header
    const code = h[1] & 0x7f
    let length = code
    if (code === 126) length = h.readUInt16BE(2)
    else if (code === 127) length = Number(h.readBigUInt64BE(2))
    this.frames.push({
      fin: (h[0] & 0x80) !== 0,
      rsv1: (h[0] & 0x40) !== 0,
      rsv2: (h[0] & 0x20) !== 0,
      rsv3: (h[0] & 0x10) !== 0,
      opcode: h[0] & 0x0f,
      masked: (h[1] & 0x80) !== 0,
      length
    })
    this.headerLength = 0
    this.skip = length
    for (const wake of this.waiters.splice(0)) wake()
  }
}

/** Both directions of one server-side socket. */
export interface SocketTap {
  /** What the peer sent us (client frames: masked). */
  incoming: FrameScanner
  /** What we wrote (server frames). */
  outgoing: FrameScanner
}

/**
 * Taps a socket from now on: a second 'data' listener sees every chunk read (it does not change
 * flow: a paused socket stays paused), and `write` is wrapped to see every chunk written. Call
 * it before the first frame crosses (in the route handler, or on the client's 'open').
 */
export function tapSocket (socket: Socket): SocketTap {
  const incoming = new FrameScanner()
  const outgoing = new FrameScanner()
  socket.on('data', (chunk: Buffer) => incoming.push(chunk))
  const write = socket.write
  socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]): boolean {
    if (Buffer.isBuffer(chunk) || chunk instanceof Uint8Array) outgoing.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    else if (typeof chunk === 'string') outgoing.push(Buffer.from(chunk, typeof rest[0] === 'string' ? rest[0] as BufferEncoding : 'utf8'))
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
  } as Socket['write']
  return { incoming, outgoing }
}
