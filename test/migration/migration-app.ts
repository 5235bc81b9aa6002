/**
 * Runs an app written for @fastify/websocket (a file in test/migration/apps/, with its own
 * node:test tests) twice, as a user switching would: once as it is, on the real
 * @fastify/websocket, and once with only the package name in its import changed to ours. Both
 * run with a plain `node` in a throwaway project where our package is installed from its
 * packed tarball (see test/package/packed-project.ts), so CommonJS `require` and ESM `import`
 * resolve it by name exactly as in a user's app. Passing on both proves parity rather than our
 * reading of @fastify/websocket.
 *
 * Not a tap file itself (no `.test.ts`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createProject, packTarball, packageJson, repoRoot, runNode, type RunResult } from '../package/packed-project.js'
import type { Teardown } from '../helpers/teardown.js'

const appsDir = join(fileURLToPath(new URL('.', import.meta.url)), 'apps')

/** The one string a migrating user changes. */
export const THEIR_IMPORT = "'@fastify/websocket'"
export const OUR_IMPORT = `'${packageJson.name}'`

export interface MigrationRun {
  /** The app as written, on @fastify/websocket. */
  theirs: RunResult
  /** The same app with only the import changed, on this package. */
  ours: RunResult
}

/** Packages the apps use besides ours (and its dependencies): linked into the project. */
const APP_DEPENDENCIES = ['ws', '@fastify/websocket', '@fastify/swagger']

/**
 * Runs `apps/<fixture>` on both plugins. Fails if the file does not mention @fastify/websocket
 * exactly once (the one line a user changes), or if dist/ is older than src/.
 */
export async function runMigrationApp (t: Teardown, fixture: string): Promise<MigrationRun> {
  assertFreshBuild()
  const source = readFileSync(join(appsDir, fixture), 'utf8')
  const mentions = source.split(THEIR_IMPORT).length - 1
  if (mentions !== 1) throw new Error(`${fixture} must import ${THEIR_IMPORT} exactly once (found ${mentions})`)
  const swapped = source.replace(THEIR_IMPORT, OUR_IMPORT)
  const extension = fixture.slice(fixture.lastIndexOf('.'))
  const name = basename(fixture, extension)
  const tarball = await packTarball(t)
  const dir = await createProject(t, tarball, {
    type: extension === '.mjs' ? 'module' : 'commonjs',
    files: { [`${name}.theirs${extension}`]: source, [`${name}.ours${extension}`]: swapped },
    link: APP_DEPENDENCIES
  })
  // One after the other: the machine is shared, and the apps listen on ports of their own.
  const theirs = await runNode(`${name}.theirs${extension}`, dir)
  const ours = await runNode(`${name}.ours${extension}`, dir)
  return { theirs, ours }
}

/** What a failed run printed, for the assertion's diagnostics. */
export function output (result: RunResult): { code: number | null, signal: string | null, stdout: string, stderr: string } {
  return { code: result.code, signal: result.signal, stdout: tail(result.stdout), stderr: tail(result.stderr) }
}

/** node:test's closing counts (`# tests N`, `# pass N`, `# fail N`...), undefined when missing. */
export function summary (result: RunResult): { tests?: number, pass?: number, fail?: number, skipped?: number, todo?: number } {
  const counts: Record<string, number> = {}
  for (const match of result.stdout.matchAll(/^# (tests|pass|fail|skipped|todo) (\d+)$/gm)) counts[match[1]] = Number(match[2])
  return counts
}

function tail (text: string): string {
  return text.length > 6000 ? `…${text.slice(-6000)}` : text
}

/** These tests run dist/: a build older than the source would test yesterday's code. */
function assertFreshBuild (): void {
  const built = join(repoRoot, 'dist', 'cjs', 'index.js')
  let builtAt: number
  try {
    builtAt = statSync(built).mtimeMs
  } catch {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)')
  }
  const newest = newestMtime(join(repoRoot, 'src'))
  if (newest > builtAt) throw new Error('dist/ is older than src/: run `npm run build` first (`npm test` does)')
}

function newestMtime (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}
