/**
 * Tests of the published package as a user gets it: `npm pack` the built package (no scripts:
 * `npm test` builds first), extract the tarball into a throwaway project's node_modules, link
 * its dependencies from our own node_modules (no network, no install), and run files there
 * with a plain `node`, by package name.
 *
 * Not a tap file itself (no `.test.ts`); the tests in this folder use it.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Teardown } from '../helpers/teardown.js'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string
  version: string
  license: string
  main: string
  types: string
  files: string[]
  exports: Record<string, unknown>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}
const requireFromRepo = createRequire(join(repoRoot, 'package.json'))

/** Bounds every child process: a hung child fails its test instead of stalling the suite. */
export const CHILD_TIMEOUT = 60_000

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs a command with tap's loaders and coverage hooks removed from the environment: the
 * children are plain Node, as a user's app would be.
 */
export async function run (command: string, args: string[], cwd: string, timeout = CHILD_TIMEOUT): Promise<RunResult> {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  delete env.NODE_V8_COVERAGE
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], shell: false })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    child.on('error', (error) => { clearTimeout(timer); reject(error) })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/**
 * Node flags that turn `require(esm)` off where this Node has it (20.17+ behind a flag, on by
 * default from 20.19), so a test behaves as on Node 20.0: the CommonJS build must never need it.
 */
export const WITHOUT_REQUIRE_ESM = process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module')
  ? ['--no-experimental-require-module']
  : []

/** `node <nodeArgs> <file>` in `cwd`. */
export async function runNode (file: string, cwd: string, nodeArgs: string[] = [], timeout?: number): Promise<RunResult> {
  return await run(process.execPath, [...nodeArgs, file], cwd, timeout)
}

/** The directory of an installed package of ours (found the way Node finds it). */
export function installedPackageDir (name: string): string {
  return dirname(requireFromRepo.resolve(`${name}/package.json`))
}

/** A fresh temporary directory outside the repository, removed in teardown. */
export function tempDir (t: Teardown, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fwn-${prefix}-`))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * `npm pack`s the repository's current build into a temporary directory and returns the
 * tarball's path. Fails with a clear message when there is no build.
 */
export async function packTarball (t: Teardown): Promise<string> {
  if (!existsSync(join(repoRoot, packageJson.main))) {
    throw new Error(`${packageJson.main} is missing: run \`npm run build\` first (\`npm test\` does)`)
  }
  const destination = tempDir(t, 'pack')
  // --ignore-scripts: `prepack` would rebuild, and `npm test` has just built.
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const result = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], repoRoot)
  if (result.code !== 0) throw new Error(`npm pack failed (${result.code}): ${result.stderr}`)
  const [{ filename }] = JSON.parse(result.stdout) as Array<{ filename: string }>
  return join(destination, filename)
}

/** The package names a user's install would bring: dependencies and required peers. */
export function runtimeDependencies (): string[] {
  const optional = packageJson.peerDependenciesMeta ?? {}
  const peers = Object.keys(packageJson.peerDependencies ?? {}).filter((name) => optional[name]?.optional !== true)
  return [...Object.keys(packageJson.dependencies ?? {}), ...peers]
}

export interface ProjectOptions {
  /** The project's package.json "type". */
  type: 'commonjs' | 'module'
  /** Files to write, by relative path. */
  files: Record<string, string>
  /** Extra packages of ours to link (test clients, types). */
  link?: string[]
}

/**
 * A throwaway project with the tarball extracted as node_modules/<name> and the package's
 * runtime dependencies (and `link`) symlinked from our node_modules. Node follows the links to
 * their real paths, so their own dependencies resolve from our node_modules as well.
 */
export async function createProject (t: Teardown, tarball: string, options: ProjectOptions): Promise<string> {
  const dir = tempDir(t, options.type === 'module' ? 'esm' : 'cjs')
  const modules = join(dir, 'node_modules')
  const target = join(modules, packageJson.name)
  mkdirSync(target, { recursive: true })
  const extracted = await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'], dir)
  if (extracted.code !== 0) throw new Error(`tar failed (${extracted.code}): ${extracted.stderr}`)
  for (const name of [...runtimeDependencies(), ...(options.link ?? [])]) {
    const link = join(modules, name)
    mkdirSync(dirname(link), { recursive: true })
    // 'junction' makes the link without privileges on Windows; elsewhere the type is ignored.
    symlinkSync(installedPackageDir(name), link, 'junction')
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `smoke-${options.type}`, private: true, type: options.type }, null, 2))
  for (const [file, text] of Object.entries(options.files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    writeFileSync(join(dir, file), text)
  }
  return dir
}

/** Parses the one JSON line a smoke script prints last; the raw output goes into the error. */
export function lastJsonLine<T> (result: RunResult): T {
  const lines = result.stdout.trim().split('\n')
  try {
    return JSON.parse(lines[lines.length - 1] ?? '') as T
  } catch {
    throw new Error(`no JSON result (exit ${result.code}, signal ${result.signal})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
  }
}
