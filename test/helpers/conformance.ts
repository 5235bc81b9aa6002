/**
 * Helpers for test/conformance: an in-process reproduction of the Autobahn testsuite's
 * "fuzzingclient" cases against the echo app of example-app/echo.js.
 *
 * - `startEchoServer` builds that app exactly (Fastify + the plugin with a 64 MiB
 *   `maxMessageSize`, `GET /` echoing text as text and binary as binary) on 127.0.0.1, port 0.
 * - `FuzzPeer` is a raw TCP client (over `RawClient`) that sends exact bytes, whole, frame by
 *   frame with pauses, or chopped, and checks what comes back with the strict verdicts of the
 *   suite: exactly the expected frames in order, nothing else, then either a clean closing
 *   handshake that we start (the server echoes our close code and closes TCP first) or a
 *   failure the server starts (its close frame carries the exact code, then it closes TCP).
 *
 * Every wait is bounded.
 */
import { isUtf8 } from 'node:buffer'
import type { Test } from 'tap'
import { buildApp } from './app.js'
import type { Teardown } from './teardown.js'
import { OP, closeFrame, decodeClose, show, type ParsedFrame } from './frames.js'
import { RawClient } from './raw-client.js'
import { WAIT, sleep, turn } from './wait.js'

/** The echo app's limit (example-app/echo.js): suites send 16 MiB messages. */
export const ECHO_MAX_MESSAGE_SIZE = 64 * 1024 * 1024

/** How long "nothing comes back" is watched for, in milliseconds. */
export const SILENCE = 100

/** A pause between frames for the suite's `sync` mode (each frame its own TCP segment). */
export const FRAME_PAUSE = 10

/**
 * Builds the app of example-app/echo.js (logger off) on 127.0.0.1, port 0; closed in the
 * teardown of `t`. Returns the port.
 */
export async function startEchoServer (t: Teardown): Promise<number> {
  const { port } = await buildApp(t, {
    plugin: { maxMessageSize: ECHO_MAX_MESSAGE_SIZE },
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

/** What a received frame is compared by: short payloads as hex, long ones by length and hash. */
export interface FrameSummary {
  fin: boolean
  rsv: number
  opcode: number
  masked: boolean
  payload: string
}

/** A received frame as `expectFrames` compares it (close frames by code and reason). */
export function summarize (f: ParsedFrame): FrameSummary {
  return {
    fin: f.fin,
    rsv: (f.rsv1 ? 4 : 0) | (f.rsv2 ? 2 : 0) | (f.rsv3 ? 1 : 0),
    opcode: f.opcode,
    masked: f.masked,
    payload: f.opcode === OP.CLOSE && f.payload.length >= 2
      ? `close ${f.payload.readUInt16BE(0)} ${JSON.stringify(f.payload.subarray(2).toString('utf8'))}`
      : show(f.payload)
  }
}

/** A frame the server should send: final, no RSV bits, unmasked (RFC 6455 §5.1). */
export interface ExpectedFrame {
  opcode: number
  payload: Buffer | string
}

export const expectText = (payload: Buffer | string): ExpectedFrame => ({ opcode: OP.TEXT, payload })
export const expectBinary = (payload: Buffer | string): ExpectedFrame => ({ opcode: OP.BINARY, payload })
export const expectPong = (payload: Buffer | string = ''): ExpectedFrame => ({ opcode: OP.PONG, payload })

function expectedSummary (expected: ExpectedFrame): FrameSummary {
  const payload = typeof expected.payload === 'string' ? Buffer.from(expected.payload, 'utf8') : expected.payload
  return { fin: true, rsv: 0, opcode: expected.opcode, masked: false, payload: show(payload) }
}

/**
 * One raw connection to the echo app, with the suite's strict checks as tap assertions.
 * Destroyed in the teardown of the test that opened it.
 */
export class FuzzPeer {
  readonly t: Test
  readonly client: RawClient

  private constructor (t: Test, client: RawClient) {
    this.t = t
    this.client = client
  }

  /** Connects and completes a valid opening handshake on `/`. */
  static async open (t: Test, port: number): Promise<FuzzPeer> {
    const { client, response } = await RawClient.open(port, '/')
    t.teardown(() => client.destroy())
    t.equal(response.headers['sec-websocket-extensions'], undefined, 'no extension negotiated')
    return new FuzzPeer(t, client)
  }

  /** Wraps a connection whose handshake the test did itself. */
  static wrap (t: Test, client: RawClient): FuzzPeer {
    return new FuzzPeer(t, client)
  }

  /** Writes all parts in one write (the suite's "one chop"). */
  send (...parts: Buffer[]): void {
    this.client.write(parts.length === 1 ? parts[0] : Buffer.concat(parts))
  }

  /** Writes each frame separately with a pause after each (the suite's `sync = True`). */
  async sendFrames (frames: Buffer[], pause = FRAME_PAUSE): Promise<void> {
    for (const f of frames) {
      this.client.write(f)
      await sleep(pause)
    }
  }

  /**
   * Writes `data` in pieces of `size` bytes, each in its own write and its own turn of the
   * event loop (so the server reads them separately), with an optional pause after each.
   */
  async sendChopped (data: Buffer, size: number, pause = 0): Promise<void> {
    for (let offset = 0; offset < data.length; offset += size) {
      this.client.write(data.subarray(offset, offset + size))
      if (pause > 0) await sleep(pause)
      else await turn()
    }
  }

  /** Reads exactly these frames, in order, each final, unmasked and without RSV bits. */
  async expectFrames (expected: readonly ExpectedFrame[], timeout = WAIT): Promise<ParsedFrame[]> {
    const got: ParsedFrame[] = []
    for (let i = 0; i < expected.length; i++) {
      let f: ParsedFrame
      try {
        f = await this.client.readFrame(timeout)
      } catch (error) {
        this.t.fail(`frame ${i + 1} of ${expected.length}: ${(error as Error).message}`, { expected: expectedSummary(expected[i]) })
        throw error
      }
      got.push(f)
      this.t.same(summarize(f), expectedSummary(expected[i]), `frame ${i + 1}: ${describeExpected(expected[i])}`)
    }
    return got
  }

  /** Nothing arrives for `ms` and the connection stays open. */
  async expectSilence (ms = SILENCE, label = 'nothing comes back yet'): Promise<void> {
    await sleep(ms)
    this.t.same(
      { pendingBytes: this.client.pending.length, ended: this.client.ended, closed: this.client.closed },
      { pendingBytes: 0, ended: false, closed: false },
      label
    )
  }

  /**
   * The server fails the connection: its next frame (no other frame before it) is a close
   * frame with `code`, then it closes TCP, and nothing follows the close frame.
   */
  async expectFailure (code: number, timeout = WAIT): Promise<void> {
    const t = this.t
    let f: ParsedFrame
    try {
      f = await this.client.readFrame(timeout)
    } catch (error) {
      t.fail(`expected a close frame with ${code}: ${(error as Error).message}`)
      throw error
    }
    t.equal(f.opcode, OP.CLOSE, 'next frame is a close frame', { found: summarize(f) })
    const body = decodeClose(f.payload)
    t.equal(body.code, code, `close code ${code}`)
    t.ok(f.fin && !f.masked && !f.rsv1 && !f.rsv2 && !f.rsv3, 'close frame final, unmasked, no RSV bits')
    t.ok(f.payload.length <= 125 && isUtf8(f.payload.subarray(2)), 'close reason is UTF-8 within the control frame limit')
    await this.expectTcpClosedByServer(timeout)
  }

  /**
   * We start the closing handshake (as the suite does after a passing case): the server's
   * next frame echoes our close code, then the server closes TCP (RFC 6455 §7.1.1).
   */
  async closeNormally (code = 1000, timeout = WAIT): Promise<void> {
    this.send(closeFrame(code))
    await this.expectCloseEcho(code, timeout)
  }

  /** The server's next frame is a close frame echoing `code` (undefined: an empty body), then TCP closes. */
  async expectCloseEcho (code: number | undefined, timeout = WAIT): Promise<void> {
    const t = this.t
    const [f] = await this.expectFramesRaw(1, timeout)
    t.equal(f.opcode, OP.CLOSE, 'next frame is the close echo', { found: summarize(f) })
    if (code === undefined) t.equal(f.payload.length, 0, 'empty close body echoed')
    else t.equal(decodeClose(f.payload).code, code, `close code ${code} echoed`)
    t.ok(f.fin && !f.masked && !f.rsv1 && !f.rsv2 && !f.rsv3, 'close frame final, unmasked, no RSV bits')
    await this.expectTcpClosedByServer(timeout)
  }

  /** The server closes TCP (we never end first), and nothing came after its close frame. */
  async expectTcpClosedByServer (timeout = WAIT): Promise<void> {
    try {
      await this.client.waitEnded(timeout)
    } catch (error) {
      this.t.fail(`the server did not close TCP: ${(error as Error).message}`)
      return
    }
    this.t.pass('the server closed TCP')
    await this.client.waitClosed(timeout).catch(() => {})
    this.t.equal(this.client.pending.length, 0, 'no bytes after the close frame')
  }

  private async expectFramesRaw (n: number, timeout: number): Promise<ParsedFrame[]> {
    const out: ParsedFrame[] = []
    for (let i = 0; i < n; i++) {
      try {
        out.push(await this.client.readFrame(timeout))
      } catch (error) {
        this.t.fail(`expected a frame: ${(error as Error).message}`)
        throw error
      }
    }
    return out
  }
}

function describeExpected (expected: ExpectedFrame): string {
  const names: Record<number, string> = { 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' }
  const payload = typeof expected.payload === 'string' ? Buffer.from(expected.payload, 'utf8') : expected.payload
  return `${names[expected.opcode] ?? `opcode ${expected.opcode}`} of ${payload.length} bytes`
}
