/**
 * Helpers for permessage-deflate tests: a peer that compresses the way `ws` and browsers do
 * (one long-lived zlib stream, a sync flush per message, context takeover unless reset), a
 * matching long-lived decompressor, and promise wrappers around our sync-or-PENDING calls.
 */
import zlib from 'node:zlib'
import {
  MessageDeflater,
  MessageInflater,
  PENDING,
  ZlibConcurrencyLimiter,
  type InflateOutcome,
  type MessageDeflaterOptions,
  type MessageInflaterOptions
} from '../../src/compression/index.js'
import { WebSocketProtocolError } from '../../src/protocol/index.js'

export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff])

/** Compresses each message as a persistent zlib stream would, tail stripped (RFC 7692 §7.2.1). */
export async function peerDeflate (messages: readonly Buffer[], windowBits: number, contextTakeover: boolean, level = 6): Promise<Buffer[]> {
  // zlib refuses 8 for raw deflate; like ws and browsers, the peer then uses 9 (see raw-deflate.ts).
  let stream = zlib.createDeflateRaw({ windowBits: windowBits === 8 ? 9 : windowBits, level })
  const out: Buffer[] = []
  for (const message of messages) {
    const chunks: Buffer[] = []
    const onData = (chunk: Buffer): void => { chunks.push(chunk) }
    stream.on('data', onData)
    stream.write(message)
    await new Promise<void>((resolve) => stream.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()))
    stream.off('data', onData)
    const payload = Buffer.concat(chunks)
    if (!payload.subarray(-4).equals(TAIL)) throw new Error('peer output does not end with a sync flush')
    out.push(payload.subarray(0, -4))
    if (!contextTakeover) {
      stream.close()
      stream = zlib.createDeflateRaw({ windowBits: windowBits === 8 ? 9 : windowBits, level })
    }
  }
  stream.close()
  return out
}

/** Decompresses payloads as a persistent zlib stream would (the receiving side of ws). */
export async function peerInflate (payloads: readonly Buffer[], windowBits: number, contextTakeover: boolean): Promise<Buffer[]> {
  let stream = zlib.createInflateRaw({ windowBits })
  const out: Buffer[] = []
  for (const payload of payloads) {
    const chunks: Buffer[] = []
    let failure: Error | undefined
    const onData = (chunk: Buffer): void => { chunks.push(chunk) }
    const onError = (error: Error): void => { failure = error }
    stream.on('data', onData)
    stream.on('error', onError)
    stream.write(payload)
    stream.write(TAIL)
    await new Promise<void>((resolve) => {
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve())
      stream.once('error', () => resolve())
    })
    if (failure !== undefined) throw failure
    stream.off('data', onData)
    stream.off('error', onError)
    out.push(Buffer.concat(chunks))
    if (!contextTakeover) {
      stream.close()
      stream = zlib.createInflateRaw({ windowBits })
    }
  }
  stream.close()
  return out
}

/** Runs one inflate to completion, checking the never-Zalgo contract on the way. */
export async function inflateOnce (inflater: MessageInflater, payload: Buffer | Buffer[], isText: boolean): Promise<{ outcome: InflateOutcome, async: boolean }> {
  let returned = false
  let calledEarly = false
  let resolveCallback!: (outcome: InflateOutcome) => void
  const callbackOutcome = new Promise<InflateOutcome>((resolve) => { resolveCallback = resolve })
  const result = inflater.inflate(payload, isText, (outcome) => {
    if (!returned) calledEarly = true
    resolveCallback(outcome)
  })
  returned = true
  if (calledEarly) throw new Error('callback called before inflate() returned')
  if (result !== PENDING) return { outcome: result, async: false }
  return { outcome: await callbackOutcome, async: true }
}

/** Inflates a sequence of messages in order. */
export async function inflateAll (inflater: MessageInflater, payloads: readonly Buffer[], isText = false): Promise<Buffer[]> {
  const out: Buffer[] = []
  for (const payload of payloads) {
    const { outcome } = await inflateOnce(inflater, payload, isText)
    if (outcome instanceof WebSocketProtocolError) throw outcome
    out.push(outcome)
  }
  return out
}

/** Deflates messages in order, submitting them all at once (results arrive in order). */
export async function deflateAll (deflater: MessageDeflater, messages: readonly Buffer[]): Promise<{ payloads: Buffer[], pendingCount: number }> {
  const results: Array<Buffer | undefined> = new Array(messages.length)
  let pendingCount = 0
  const order: number[] = []
  await new Promise<void>((resolve, reject) => {
    let remaining = messages.length
    if (remaining === 0) resolve()
    messages.forEach((message, index) => {
      let returned = false
      const result = deflater.deflate(message, (outcome) => {
        if (!returned) reject(new Error('deflate callback before deflate() returned'))
        if (outcome instanceof Error) { reject(outcome); return }
        order.push(index)
        results[index] = outcome
        if (--remaining === 0) resolve()
      })
      returned = true
      if (result === PENDING) {
        pendingCount++
        return
      }
      if (result instanceof Error) { reject(result); return }
      order.push(index)
      results[index] = result
      if (--remaining === 0) resolve()
    })
  })
  for (let i = 0; i < order.length; i++) if (order[i] !== i) throw new Error(`results out of order: ${order.join(',')}`)
  return { payloads: results as Buffer[], pendingCount }
}

export function inflater (options: Partial<MessageInflaterOptions> = {}): MessageInflater {
  return new MessageInflater({
    windowBits: 15,
    contextTakeover: true,
    maxMessageSize: 64 * 1024 * 1024,
    limiter: new ZlibConcurrencyLimiter(10),
    ...options
  })
}

export const DEFLATE_DEFAULTS = { level: -1, memLevel: 8, strategy: 0, chunkSize: 16384 }

export function deflater (options: Partial<MessageDeflaterOptions> = {}): MessageDeflater {
  return new MessageDeflater({
    windowBits: 15,
    contextTakeover: true,
    threshold: 0,
    zlib: DEFLATE_DEFAULTS,
    limiter: new ZlibConcurrencyLimiter(10),
    ...options
  })
}

/** Text-like, compressible messages of a given size (JSON-ish), varied by seed. */
export function jsonMessage (size: number, seed: number): Buffer {
  let s = seed >>> 0
  let out = '{"type":"update","items":['
  while (out.length < size) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    out += `{"id":${s % 100000},"user":"user${s % 977}","status":"${['online', 'away', 'busy'][s % 3]}","score":${(s % 10000) / 100}},`
  }
  return Buffer.from(out.slice(0, size))
}
