/**
 * The echo matrix for client tests: through a socket whose peer echoes, a text and a binary
 * message of every size in SIZES (every length encoding, up to 1 MiB), each checked to come
 * back whole and with its type, and no 'error' event.
 */
import type { Test } from 'tap'
import { SIZES, pattern, text } from './payloads.js'
import { WAIT, type EventLog } from './wait.js'

/** Bound for one echo of 64 KiB or more, in milliseconds (the machine may be loaded). */
const LARGE_ECHO_WAIT = 10_000

/**
 * Sends text(size) and pattern(size, size + seed) for each of SIZES and asserts both echoes,
 * read from `log` (an EventLog of `socket`). `seed` varies the binary content between tests.
 */
export async function checkEchoMatrix (t: Test, socket: { send: (data: string | Buffer) => unknown }, log: EventLog, seed: number): Promise<void> {
  let n = log.count('message')
  for (const [label, size] of SIZES) {
    const timeout = size >= 65536 ? LARGE_ECHO_WAIT : WAIT
    const sentText = text(size)
    const sentBytes = pattern(size, size + seed)
    socket.send(sentText)
    socket.send(sentBytes)
    const [textData, textIsBinary] = await log.nth('message', ++n, timeout) as [Buffer, boolean]
    const [binData, binIsBinary] = await log.nth('message', ++n, timeout) as [Buffer, boolean]
    t.equal(textIsBinary, false, `text ${label} comes back as text`)
    t.ok(textData.toString() === sentText, `text ${label} content`)
    t.equal(binIsBinary, true, `binary ${label} comes back as binary`)
    t.ok(binData.equals(sentBytes), `binary ${label} content`)
  }
  t.equal(log.count('error'), 0, 'no error event')
}
