/**
 * A permessage-deflate client for the compression conformance cases (Autobahn groups 12 and
 * 13) and the fault tests, written independently of src/:
 *
 * - a raw TCP connection (`RawClient`) that sends an exact `Sec-WebSocket-Extensions` offer
 *   (any text: several offers, several header lines) and reads the agreed parameters from the
 *   101 with its own parser;
 * - compresses the way Autobahn's client, `ws` and browsers do: one long-lived zlib stream per
 *   direction, a sync flush per message with the `00 00 ff ff` tail stripped (RFC 7692
 *   §7.2.1), reset after every message when no context takeover was agreed for that direction;
 * - sends a compressed message whole or cut into frames of N bytes after compressing (the
 *   suite's auto-fragmentation), or any frames the test builds itself;
 * - reads the server's messages with strict checks: unmasked, no RSV2/RSV3, RSV1 only on the
 *   first frame, continuations in order; inflates them with zlib, and decodes the first few
 *   compressed ones again with the independent decoder of deflate-decoder.ts to check what
 *   zlib does not: every back-reference within the agreed `server_max_window_bits` window,
 *   and none into an earlier message under `server_no_context_takeover` (zlib accepts a
 *   distance beyond its window as long as the bytes are in its output buffer).
 *
 * Every wait is bounded.
 */
import zlib from 'node:zlib'
import type { Test } from 'tap'
import { buildApp } from './app.js'
import type { Teardown } from './teardown.js'
import { FuzzPeer } from './conformance.js'
import { OP, buildFrame, parseFrame, type ParsedFrame } from './frames.js'
import { RawClient, type HttpResponse } from './raw-client.js'
import { decodeDeflate } from './deflate-decoder.js'
import type { WebSocketPluginOptions } from '../../src/index.js'

export { OP }

/** RFC 7692 §7.2.1: the tail of a sync flush, which a sender strips and a receiver restores. */
export const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff])

/** What the server's answer says, in RFC 7692's terms; windows are 15 when not given. */
export interface AgreedDeflate {
  serverNoContextTakeover: boolean
  clientNoContextTakeover: boolean
  serverMaxWindowBits: number
  clientMaxWindowBits: number
}

/**
 * Parses a server's `Sec-WebSocket-Extensions` answer (one permessage-deflate element, RFC 7692
 * §7.1). Returns null for no header; throws for anything a client must refuse: another
 * extension, two elements, an unknown, repeated or valueless/valued-wrongly parameter, a window
 * outside 8..15.
 */
export function parseDeflateAnswer (header: string | undefined): AgreedDeflate | null {
  if (header === undefined) return null
  if (header.includes(',')) throw new Error(`more than one extension accepted: ${header}`)
  const [name, ...params] = header.split(';').map((part) => part.trim())
  if (name !== 'permessage-deflate') throw new Error(`unexpected extension ${name}`)
  const agreed: AgreedDeflate = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }
  const seen = new Set<string>()
  for (const param of params) {
    const [key, value, extra] = param.split('=').map((part) => part.trim())
    if (extra !== undefined || seen.has(key)) throw new Error(`malformed or repeated parameter ${param}`)
    seen.add(key)
    if (key === 'server_no_context_takeover' || key === 'client_no_context_takeover') {
      if (value !== undefined) throw new Error(`${key} must not have a value`)
      if (key === 'server_no_context_takeover') agreed.serverNoContextTakeover = true
      else agreed.clientNoContextTakeover = true
    } else if (key === 'server_max_window_bits' || key === 'client_max_window_bits') {
      // RFC 7692 §7.1.2: a decimal 8..15 without leading zeros; quoted values are allowed too.
      const bits = value?.replace(/^"(.*)"$/, '$1')
      if (bits === undefined || !/^(8|9|1[0-5])$/.test(bits)) throw new Error(`${key} has an invalid value ${String(value)}`)
      if (key === 'server_max_window_bits') agreed.serverMaxWindowBits = Number(bits)
      else agreed.clientMaxWindowBits = Number(bits)
    } else {
      throw new Error(`unknown parameter ${key}`)
    }
  }
  return agreed
}

/** One direction's compressor, as a browser or `ws` keeps it: a zlib stream for the connection's life. */
export class StreamCompressor {
  private readonly stream: zlib.DeflateRaw
  private chunks: Buffer[] = []

  /** `windowBits` 8 is compressed with 9, as zlib (and so ws and Chromium) do; it stays within 250 bytes. */
  constructor (windowBits: number, private readonly contextTakeover: boolean, level = 6) {
    this.stream = zlib.createDeflateRaw({ windowBits: windowBits === 8 ? 9 : windowBits, level })
    this.stream.on('data', (chunk: Buffer) => this.chunks.push(chunk))
  }

  /** One message's payload: deflated, sync-flushed, tail stripped. */
  async compress (data: Buffer): Promise<Buffer> {
    this.chunks = []
    if (data.length > 0) this.stream.write(data)
    await new Promise<void>((resolve) => this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()))
    const out = Buffer.concat(this.chunks)
    if (!out.subarray(-4).equals(DEFLATE_TAIL)) throw new Error('sync flush did not end with 00 00 ff ff')
    if (!this.contextTakeover) this.stream.reset()
    return out.subarray(0, -4)
  }

  close (): void {
    this.stream.close()
  }
}

/** The matching decompressor; an error means the peer broke the agreed window or context rules. */
export class StreamDecompressor {
  private readonly stream: zlib.InflateRaw
  private chunks: Buffer[] = []
  private failure: Error | undefined

  constructor (windowBits: number, private readonly contextTakeover: boolean) {
    this.stream = zlib.createInflateRaw({ windowBits })
    this.stream.on('data', (chunk: Buffer) => this.chunks.push(chunk))
    this.stream.on('error', (error) => { this.failure = error })
  }

  async decompress (payload: Buffer): Promise<Buffer> {
    if (this.failure !== undefined) throw this.failure
    this.chunks = []
    this.stream.write(payload)
    // RFC 7692 §7.2.2: append the tail the sender stripped.
    this.stream.write(DEFLATE_TAIL)
    await new Promise<void>((resolve) => {
      const onError = (): void => resolve()
      this.stream.once('error', onError)
      this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.stream.removeListener('error', onError)
        resolve()
      })
    })
    if (this.failure !== undefined) throw this.failure
    const out = Buffer.concat(this.chunks)
    if (!this.contextTakeover) this.stream.reset()
    return out
  }

  close (): void {
    this.stream.close()
  }
}

/** A message the server sent, with how it came. */
export interface ReceivedMessage {
  data: Buffer
  binary: boolean
  /** RSV1 was set on its first frame. */
  compressed: boolean
  frames: number
  /** Bytes of payload on the wire (compressed size). */
  wireBytes: number
}

export interface SendOptions {
  binary?: boolean
  /** Compress (RSV1 on the first frame). @default true when compression was agreed */
  compress?: boolean
  /** Cut the (compressed) payload into frames of this many bytes; 0: one frame. @default 0 */
  fragmentSize?: number
}

/**
 * One raw connection that speaks permessage-deflate as agreed in its own handshake. Destroyed
 * in the teardown of the test that opened it.
 */
export class DeflatePeer {
  readonly t: Test
  readonly client: RawClient
  readonly response: HttpResponse
  /** null: the server declined (no Sec-WebSocket-Extensions in its 101). */
  readonly agreed: AgreedDeflate | null
  private readonly compressor: StreamCompressor | null
  private readonly decompressor: StreamDecompressor | null
  /**
   * Compressed messages still to be decoded by the independent decoder (slow: ~0.1 ms per
   * KiB), and the plaintext of the server's compressed messages so far (its LZ77 history).
   */
  independentChecks = 4
  private history: Buffer = Buffer.alloc(0)

  private constructor (t: Test, client: RawClient, response: HttpResponse, agreed: AgreedDeflate | null) {
    this.t = t
    this.client = client
    this.response = response
    this.agreed = agreed
    this.compressor = agreed === null ? null : new StreamCompressor(agreed.clientMaxWindowBits, !agreed.clientNoContextTakeover)
    this.decompressor = agreed === null ? null : new StreamDecompressor(agreed.serverMaxWindowBits, !agreed.serverNoContextTakeover)
    t.teardown(() => {
      this.compressor?.close()
      this.decompressor?.close()
    })
  }

  /**
   * Connects, sends a valid opening handshake on `path` with `offer` as the
   * Sec-WebSocket-Extensions value (an array: one header line each; undefined: no header),
   * and parses the answer (throws if the server's answer is malformed).
   */
  static async open (t: Test, port: number, offer: string | string[] | undefined, path = '/'): Promise<DeflatePeer> {
    const lines = offer === undefined ? [] : (Array.isArray(offer) ? offer : [offer]).map((value) => `Sec-WebSocket-Extensions: ${value}`)
    const { client, response } = await RawClient.open(port, path, { extraLines: lines })
    t.teardown(() => client.destroy())
    return new DeflatePeer(t, client, response, parseDeflateAnswer(response.headers['sec-websocket-extensions']))
  }

  /** The strict verdicts of test/helpers/conformance.ts (closing handshake, failures). */
  get fuzz (): FuzzPeer {
    return FuzzPeer.wrap(this.t, this.client)
  }

  /** The frames of one message: compressed as agreed (unless `compress: false`), masked. */
  async encode (data: Buffer, options: SendOptions = {}): Promise<Buffer[]> {
    const compress = options.compress ?? this.compressor !== null
    if (compress && this.compressor === null) throw new Error('compression was not agreed')
    const payload = compress ? await (this.compressor as StreamCompressor).compress(data) : data
    const size = options.fragmentSize ?? 0
    const pieces: Buffer[] = []
    if (size > 0) for (let offset = 0; offset < payload.length; offset += size) pieces.push(payload.subarray(offset, offset + size))
    if (pieces.length === 0) pieces.push(payload)
    const opcode = options.binary === true ? OP.BINARY : OP.TEXT
    // RFC 7692 §6.1: RSV1 on the first frame of a compressed message only.
    return pieces.map((piece, i) => buildFrame({
      opcode: i === 0 ? opcode : OP.CONT,
      fin: i === pieces.length - 1,
      rsv1: compress && i === 0,
      payload: piece
    }))
  }

  /** The unmasked payload of a frame `encode` built (to rebuild it in other frames). */
  static payloadOf (frame: Buffer): Buffer {
    const parsed = parseFrame(frame)
    if (parsed === null) throw new Error('not a complete frame')
    return parsed.frame.payload
  }

  /** Sends one message (its frames in one write). */
  async send (data: Buffer, options: SendOptions = {}): Promise<void> {
    this.client.write(Buffer.concat(await this.encode(data, options)))
  }

  /**
   * The server's next message. Throws (with the reason) on anything a strict client refuses:
   * a masked frame, RSV2/RSV3, RSV1 without agreement or on a continuation, a control frame
   * (none is expected in these cases), a continuation out of place, data that does not inflate.
   */
  async receive (timeout = 5000): Promise<ReceivedMessage> {
    const deadline = Date.now() + timeout
    const payloads: Buffer[] = []
    let first: ParsedFrame | undefined
    let frames = 0
    for (;;) {
      const f = await this.client.readFrame(Math.max(1, deadline - Date.now()))
      frames++
      if (f.masked) throw new Error('the server masked a frame (RFC 6455 §5.1)')
      if (f.rsv2 || f.rsv3) throw new Error('RSV2/RSV3 set (RFC 6455 §5.2)')
      if (first === undefined) {
        if (f.opcode !== OP.TEXT && f.opcode !== OP.BINARY) throw new Error(`expected a data frame, got opcode ${f.opcode}${f.opcode === OP.CLOSE && f.payload.length >= 2 ? ` (close ${f.payload.readUInt16BE(0)})` : ''}`)
        if (f.rsv1 && this.agreed === null) throw new Error('RSV1 set but no extension was agreed (RFC 7692 §6)')
        first = f
      } else {
        if (f.opcode !== OP.CONT) throw new Error(`expected a continuation, got opcode ${f.opcode}`)
        if (f.rsv1) throw new Error('RSV1 on a continuation frame (RFC 7692 §6.1)')
      }
      payloads.push(f.payload)
      if (f.fin) break
    }
    const wire = payloads.length === 1 ? payloads[0] : Buffer.concat(payloads)
    const compressed = first.rsv1
    const data = compressed ? await (this.decompressor as StreamDecompressor).decompress(wire) : wire
    if (compressed) this.checkIndependently(wire, data)
    return { data, binary: first.opcode === OP.BINARY, compressed, frames, wireBytes: wire.length }
  }

  /**
   * RFC 7692 §7.1.2.1 / §7.1.1.1, checked without zlib: the message decodes to the same bytes
   * using only the history the server may use, and no distance exceeds its agreed window.
   */
  private checkIndependently (wire: Buffer, data: Buffer): void {
    const agreed = this.agreed as AgreedDeflate
    const window = 2 ** agreed.serverMaxWindowBits
    if (this.independentChecks > 0) {
      this.independentChecks--
      const history = agreed.serverNoContextTakeover ? Buffer.alloc(0) : this.history
      let decoded
      try {
        decoded = decodeDeflate(Buffer.concat([wire, DEFLATE_TAIL]), history)
      } catch (error) {
        throw new Error(`independent decoder: ${(error as Error).message}${agreed.serverNoContextTakeover ? ' (a reference into an earlier message under server_no_context_takeover?)' : ''}`)
      }
      if (!decoded.output.equals(data)) throw new Error('independent decoder and zlib disagree')
      if (decoded.maxDistance > window) throw new Error(`back-reference ${decoded.maxDistance} bytes, beyond the agreed ${window}-byte window (server_max_window_bits=${agreed.serverMaxWindowBits})`)
    }
    if (!agreed.serverNoContextTakeover) {
      const joined = Buffer.concat([this.history, data])
      this.history = joined.subarray(Math.max(0, joined.length - window))
    }
  }

  /** We start the closing handshake; the server echoes 1000 and closes TCP first (tap assertions). */
  async closeNormally (): Promise<void> {
    await this.fuzz.closeNormally()
  }
}

/** The RFC 7692 §5 offer of Autobahn's `PerMessageDeflateOffer(...)` (its getExtensionString). */
export function autobahnOffer (requestNoContextTakeover = false, requestMaxWindowBits = 0): string {
  // Defaults acceptNoContextTakeover = acceptMaxWindowBits = True, in this order.
  let offer = 'permessage-deflate; client_no_context_takeover; client_max_window_bits'
  if (requestNoContextTakeover) offer += '; server_no_context_takeover'
  if (requestMaxWindowBits !== 0) offer += `; server_max_window_bits=${requestMaxWindowBits}`
  return offer
}

/** The echo app of example-app/echo.js run with DEFLATE=1 (64 MiB messages, `perMessageDeflate: true`). */
export async function startDeflateEchoServer (t: Teardown, perMessageDeflate: WebSocketPluginOptions['perMessageDeflate'] = true): Promise<number> {
  const { port } = await buildApp(t, {
    plugin: { maxMessageSize: 64 * 1024 * 1024, perMessageDeflate },
    noEcho: true,
    setup (app) {
      app.get('/', { websocket: true }, (socket) => {
        socket.on('message', (data, isBinary) => {
          socket.send(data, { binary: isBinary })
        })
      })
    }
  })
  return port
}

/** The echo app's `threshold` (the plugin's default): smaller echoes go uncompressed. */
export const ECHO_THRESHOLD = 1024

/**
 * How many messages a scaled-down case sends (the suite sends 1000 of every size): enough to
 * fill a 32 KiB window several times over (context takeover refers back across messages), at
 * most about 1 MiB of payload per case so the whole group runs in seconds.
 */
export function scaledCount (size: number): number {
  if (size <= 1024) return 100
  return Math.max(8, Math.min(50, Math.floor(1024 * 1024 / size)))
}

export interface EchoCase {
  /** Messages to send, in order. */
  next: () => Buffer
  count: number
  binary: boolean
  /** Cut each compressed payload into frames of this many bytes (0: one frame). */
  fragmentSize: number
  /** Whether the server's echoes must carry RSV1 (compressed) or not. */
  expectCompressed: (size: number) => boolean
  /** Send everything at once (one write), then read every echo, instead of one at a time. */
  pipelined?: boolean
}

/**
 * Runs one echo case over `peer`: every echo byte-identical, in order, of the right type, in
 * one frame, compressed exactly when expected. One assertion for the whole run (with the first
 * mismatch described), not one per message.
 */
export async function runEchoCase (t: Test, peer: DeflatePeer, spec: EchoCase): Promise<void> {
  const sent: Buffer[] = []
  let failure: string | undefined
  let compressedEchoes = 0
  let wireBytes = 0
  let payloadBytes = 0
  const check = (i: number, echo: ReceivedMessage): void => {
    const expected = sent[i]
    const compress = spec.expectCompressed(expected.length)
    if (echo.binary !== spec.binary) failure = `echo ${i + 1}: ${echo.binary ? 'binary' : 'text'} instead of ${spec.binary ? 'binary' : 'text'}`
    else if (echo.data.length !== expected.length) failure = `echo ${i + 1}: ${echo.data.length} bytes instead of ${expected.length}`
    else if (!echo.data.equals(expected)) failure = `echo ${i + 1}: content differs from message ${i + 1} (a loss, a reorder or corrupt data)`
    else if (echo.compressed !== compress) failure = `echo ${i + 1} (${expected.length} bytes): RSV1 ${echo.compressed ? 'set' : 'clear'}, expected ${compress ? 'compressed' : 'uncompressed'}`
    else if (echo.frames !== 1) failure = `echo ${i + 1}: ${echo.frames} frames (the server does not fragment)`
    if (echo.compressed) compressedEchoes++
    wireBytes += echo.wireBytes
    payloadBytes += echo.data.length
  }
  try {
    if (spec.pipelined === true) {
      const frames: Buffer[] = []
      for (let i = 0; i < spec.count; i++) {
        const message = spec.next()
        sent.push(message)
        frames.push(...await peer.encode(message, { binary: spec.binary, fragmentSize: spec.fragmentSize }))
      }
      peer.client.write(Buffer.concat(frames))
      for (let i = 0; i < spec.count && failure === undefined; i++) check(i, await peer.receive())
    } else {
      for (let i = 0; i < spec.count && failure === undefined; i++) {
        const message = spec.next()
        sent.push(message)
        await peer.send(message, { binary: spec.binary, fragmentSize: spec.fragmentSize })
        check(i, await peer.receive())
      }
    }
  } catch (error) {
    failure = `after ${sent.length} message(s): ${(error as Error).message}`
  }
  t.equal(failure, undefined, `${spec.count} echoes byte-identical, in order, each one frame, RSV1 as expected`,
    { compressedEchoes, ratio: payloadBytes === 0 ? 1 : Number((wireBytes / payloadBytes).toFixed(3)) })
  if (failure === undefined) await peer.closeNormally()
}
