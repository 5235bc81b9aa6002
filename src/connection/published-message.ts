import { SharedMessageDeflate } from '../compression/index.js'
import { Opcode, encodeFrame } from '../protocol/index.js'

/**
 * One message published to a topic, encoded once for all its subscribers: the uncompressed
 * frame when the first socket needs it, and each distinct compressed payload framed once (all
 * sockets that share compression settings without context takeover get the same one).
 */
export class PublishedMessage {
  readonly payload: Buffer
  readonly binary: boolean
  private plain: Buffer[] | null = null
  private sharedDeflate: SharedMessageDeflate | null = null
  private compressedFrames: Map<Buffer, Buffer[]> | null = null

  constructor (payload: Buffer, binary: boolean) {
    this.payload = payload
    this.binary = binary
  }

  /** The uncompressed frame, as the chunks to write (the same Buffers for every socket). */
  plainFrame (): Buffer[] {
    return this.plain ??= encodeFrame(this.opcode, this.payload)
  }

  /** The compression shared by sockets with the same settings (created on first use). */
  shared (): SharedMessageDeflate {
    return this.sharedDeflate ??= new SharedMessageDeflate(this.payload)
  }

  /** The frame (RSV1 set, RFC 7692 §6) for one compressed payload, encoded once per payload. */
  compressedFrame (compressed: Buffer): Buffer[] {
    const frames = this.compressedFrames ??= new Map()
    let chunks = frames.get(compressed)
    if (chunks === undefined) {
      chunks = encodeFrame(this.opcode, compressed, { rsv1: true })
      frames.set(compressed, chunks)
    }
    return chunks
  }

  private get opcode (): number {
    return this.binary ? Opcode.Binary : Opcode.Text
  }
}
