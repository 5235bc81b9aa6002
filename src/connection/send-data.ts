import { isUtf8 } from 'node:buffer'

/** What `send` accepts: strings go as text, everything else as binary (unless told otherwise). */
export type WebSocketData = string | Buffer | ArrayBuffer | ArrayBufferView

/** Bytes of any accepted data type, without copying where a view will do. */
export function toBuffer (data: WebSocketData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data)
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  throw new TypeError('data must be a string, Buffer, TypedArray, DataView or ArrayBuffer')
}

/**
 * Normalises a message: its bytes and whether it goes as binary. Bytes forced to text must be
 * UTF-8 (RFC 6455 §5.6): a peer would fail the connection with 1007 otherwise.
 */
export function toPayload (data: WebSocketData, binary: boolean | undefined): { payload: Buffer, binary: boolean } {
  if (typeof data === 'string') return { payload: Buffer.from(data, 'utf8'), binary: binary ?? false }
  const payload = toBuffer(data)
  if (binary === false && !isUtf8(payload)) throw new TypeError('data sent as text is not valid UTF-8')
  return { payload, binary: binary ?? true }
}
