// Seeded property tests (the DESIGN's fast-check properties, with a hand-rolled generator so
// no dependency is needed): (1) any valid stream in any chunking gives the same messages, pongs
// and close; (2) any bytes give events or one clean protocol error, never a throw, and every
// chunking agrees.
import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { OP, clientFrame, closeBody, serverFrame } from '../helpers/frames.js'
import { ev, type Entry, type Expected, createProtocol, feed, shape } from '../helpers/protocol-recorder.js'
import { chunkings } from '../helpers/chunkings.js'
import { randomBytes, randomInt, seededRandom } from '../helpers/seeded-random.js'
import { ProtocolErrorCode } from '../../src/protocol/index.js'

const CODES = new Set<string>(Object.values(ProtocolErrorCode))
const ALPHABET = ['a', 'Z', ' ', '0', 'é', 'ß', '€', '日', '本', '𝄞', '😀']

function randomText (random: () => number, maxChars: number): string {
  let text = ''
  const count = randomInt(random, 0, maxChars)
  for (let i = 0; i < count; i++) text += ALPHABET[randomInt(random, 0, ALPHABET.length - 1)]
  return text
}

/** A random valid client stream and the timeline it must produce. */
function validStream (random: () => number, role: 'server' | 'client'): { input: Buffer, expected: Expected[] } {
  const build = role === 'server' ? clientFrame : serverFrame
  const masked = role === 'client'
  const frames: Buffer[] = []
  const expected: Expected[] = []
  const control = (): void => {
    const data = randomBytes(random, randomInt(random, 0, 10))
    if (random() < 0.5) {
      frames.push(build(OP.PING, data))
      expected.push(ev.wrotePong(data, masked), ev.ping(data))
    } else {
      frames.push(build(OP.PONG, data))
      expected.push(ev.pong(data))
    }
  }
  const messages = randomInt(random, 1, 5)
  for (let m = 0; m < messages; m++) {
    if (random() < 0.3) control()
    const binary = random() < 0.5
    const payload = binary ? randomBytes(random, random() < 0.1 ? randomInt(random, 126, 70000) : randomInt(random, 0, 40)) : Buffer.from(randomText(random, 30))
    // Cut the payload anywhere, even inside a UTF-8 sequence, into 1-4 fragments.
    const cuts = Array.from({ length: randomInt(random, 0, 3) }, () => randomInt(random, 0, payload.length)).sort((a, b) => a - b)
    const bounds = [0, ...cuts, payload.length]
    for (let f = 0; f + 1 < bounds.length; f++) {
      const opcode = f === 0 ? (binary ? OP.BINARY : OP.TEXT) : OP.CONT
      frames.push(build(opcode, payload.subarray(bounds[f], bounds[f + 1]), { fin: f + 2 === bounds.length }))
      if (f + 2 < bounds.length && random() < 0.4) control()
    }
    expected.push(binary ? ev.binary(payload) : ev.text(payload))
  }
  if (random() < 0.3) {
    const code = [1000, 1001, 3000, 4999][randomInt(random, 0, 3)]
    const reason = randomText(random, 5)
    frames.push(build(OP.CLOSE, closeBody(code, reason)))
    expected.push(ev.wroteClose(code, masked), ev.close(code, reason))
  }
  return { input: Buffer.concat(frames), expected }
}

t.test('any valid stream, in any chunking, gives the same events and bytes', async (t) => {
  const random = seededRandom(42)
  const failures: string[] = []
  let runs = 0
  for (let i = 0; i < 120; i++) {
    const role = i % 4 === 3 ? 'client' : 'server'
    const { input, expected } = validStream(random, role)
    let first: Entry[] | undefined
    for (const chunking of chunkings(input, { exhaustiveSplitLimit: 400, edge: 40, sampled: 20, seeds: [i, i + 1000], byteByByteLimit: 20000 })) {
      const run = createProtocol({ role })
      feed(run, chunking.chunks)
      runs++
      if (first === undefined) {
        first = run.timeline
        if (!isDeepStrictEqual(shape(run.timeline, expected), expected)) failures.push(`stream ${i} (${role}): unexpected timeline`)
      } else if (!isDeepStrictEqual(run.timeline, first)) {
        failures.push(`stream ${i} (${role}) ${chunking.name}: differs from whole`)
      }
    }
  }
  t.same(failures.slice(0, 10), [], `${runs} runs of 120 streams`)
})

/** Checks the invariants of any timeline; returns what is wrong. */
function invariants (timeline: Entry[], role: 'server' | 'client'): string[] {
  const problems: string[] = []
  if (timeline.some((e) => e.type === 'threw')) problems.push('receive threw')
  const terminal = timeline.findIndex((e) => e.type === 'error' || e.type === 'close')
  if (terminal !== -1 && terminal !== timeline.length - 1) problems.push('events after a close or error')
  const errors = timeline.filter((e) => e.type === 'error')
  if (errors.length > 1) problems.push('more than one error')
  for (const error of errors) {
    if (error.type !== 'error') continue
    if (!CODES.has(error.code)) problems.push(`unknown code ${error.code}`)
    if (![1002, 1007, 1009].includes(error.closeCode)) problems.push(`close code ${error.closeCode}`)
    const before = timeline[timeline.length - 2]
    if (before?.type !== 'write' || !before.frame.startsWith(`close${role === 'client' ? ' masked' : ''} ${error.closeCode} `)) problems.push('no close frame before the error')
  }
  return problems
}

t.test('any bytes: events or one clean protocol error, never a throw, the same in every chunking', async (t) => {
  const random = seededRandom(7)
  const failures: string[] = []
  const seenCodes = new Set<string>()
  let runs = 0
  for (let i = 0; i < 400; i++) {
    const role = i % 2 === 0 ? 'server' : 'client'
    let input: Buffer
    if (i % 3 === 0) {
      input = randomBytes(random, randomInt(random, 0, 64))
    } else {
      // A valid stream with a few bytes flipped, so errors happen deep inside.
      input = validStream(random, role).input
      const flips = randomInt(random, 1, 3)
      for (let f = 0; f < flips && input.length > 0; f++) input[randomInt(random, 0, input.length - 1)] ^= 1 << randomInt(random, 0, 7)
    }
    let first: Entry[] | undefined
    for (const chunking of chunkings(input, { exhaustiveSplitLimit: 64, edge: 16, sampled: 8, seeds: [i], byteByByteLimit: 5000 })) {
      const run = createProtocol({ role })
      feed(run, chunking.chunks)
      runs++
      const problems = invariants(run.timeline, role)
      if (problems.length > 0) failures.push(`input ${i} ${chunking.name}: ${problems.join(', ')}`)
      if (first === undefined) {
        first = run.timeline
        for (const e of run.timeline) if (e.type === 'error') seenCodes.add(e.code)
      } else if (!isDeepStrictEqual(run.timeline, first)) {
        failures.push(`input ${i} ${chunking.name}: differs from whole`)
      }
    }
  }
  t.same(failures.slice(0, 10), [], `${runs} runs`)
  t.ok(seenCodes.size >= 6, `the inputs reach many different errors: ${[...seenCodes].join(', ')}`)
})
