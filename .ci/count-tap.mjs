// Reads a TAP stream on stdin (tap's `--reporter=tap` output) and prints the one summary line
// the CI reader understands: `tests: N passed, N failed`. Counts the leaf assertions at every
// nesting level (a subtest's own summary point is not counted again); exits non-zero if
// anything failed or the stream itself reported failure.
import { Parser } from 'tap-parser'

let passed = 0
let failed = 0
let skipped = 0

function watch (parser) {
  let childPending = null
  parser.on('child', (child) => {
    childPending = child
    watch(child)
  })
  parser.on('assert', (point) => {
    // A point that closes a subtest summarises assertions already counted inside it (tap
    // reports a crash or timeout as a failing point inside the subtest, too).
    const isSubtestSummary = childPending !== null && childPending.name === point.name
    childPending = null
    if (isSubtestSummary) return
    if (point.todo || point.skip) skipped++
    else if (point.ok) passed++
    else failed++
  })
}

const root = new Parser((results) => {
  if (!results.ok && failed === 0) failed = 1 // the stream failed with no failing point: count it
  console.log(`tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
  process.exitCode = results.ok && failed === 0 ? 0 : 1
})
watch(root)
process.stdin.pipe(root)
