/** A Fastify logger stream that keeps its JSON lines, for tests that assert what was logged. */
import { Writable } from 'node:stream'

export interface CapturedLogs {
  /** Every line logged so far, parsed. */
  lines: Array<Record<string, unknown>>
  /** Give it to Fastify: `Fastify({ logger: { level, stream } })`. */
  stream: Writable
}

export function captureLogs (): CapturedLogs {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
      callback()
    }
  })
  return { lines, stream }
}
