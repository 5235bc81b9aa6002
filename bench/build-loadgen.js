// Builds the C load generator (bench/loadgen.c) into bench/.work/loadgen, for run.js and
// profile.js alike. zlib (-lz) is for scenario F's permessage-deflate.
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = dirname(fileURLToPath(import.meta.url))
export const workDir = join(benchDir, '.work')
export const loadgenPath = join(workDir, 'loadgen')

export function buildLoadgen () {
  mkdirSync(workDir, { recursive: true })
  execFileSync('cc', ['-O2', '-Wall', '-o', loadgenPath, join(benchDir, 'loadgen.c'), '-lz'], { stdio: 'inherit' })
  return loadgenPath
}
