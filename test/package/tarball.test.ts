// What `npm pack` ships, exactly: package.json, README.md, LICENSE, the CommonJS build of every
// src/ file (js + d.ts, no source maps), and the four wrappers of every `exports` entry. A stale
// file in dist/, a missing build of a new src/ file, or a map pointing at unshipped sources fails.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import t from 'tap'
import { packageJson, repoRoot, run } from './packed-project.js'

interface PackReport { files: Array<{ path: string }>, unpackedSize: number, size: number }

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : []
  })
}

function exportTargets (): string[] {
  return Object.entries(packageJson.exports)
    .filter(([subpath]) => subpath !== './package.json')
    .flatMap(([, conditions]) => Object.values(conditions as Record<string, Record<string, string>>).flatMap((branch) => Object.values(branch)))
    .map((target) => target.replace(/^\.\//, ''))
}

t.test('npm pack ships exactly the build, its wrappers, README and LICENSE', async (t) => {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const result = await run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], repoRoot)
  t.equal(result.code, 0, 'npm pack --dry-run succeeds', { stderr: result.stderr })
  const [report] = JSON.parse(result.stdout) as PackReport[]
  const shipped = report!.files.map((file) => file.path).sort()

  const src = join(repoRoot, 'src')
  const compiled = sourceFiles(src).flatMap((file) => {
    const base = relative(src, file).split(sep).join('/').replace(/\.ts$/, '')
    return [`dist/cjs/${base}.js`, `dist/cjs/${base}.d.ts`]
  })
  const expected = [...new Set(['LICENSE', 'README.md', 'package.json', 'dist/cjs/package.json', ...compiled, ...exportTargets()])].sort()
  t.same(shipped, expected, 'the tarball holds exactly these files')
  t.notOk(shipped.some((file) => file.endsWith('.map')), 'no source maps')
  t.comment(`${shipped.length} files, ${report!.size} bytes packed, ${report!.unpackedSize} unpacked`)

  const pointingAtMaps = shipped.filter((path) => /\.[cm]?js$/.test(path) && readFileSync(join(repoRoot, path), 'utf8').includes('sourceMappingURL'))
  t.same(pointingAtMaps, [], 'no shipped file points at a source map')
  t.same(JSON.parse(readFileSync(join(repoRoot, 'dist', 'cjs', 'package.json'), 'utf8')), { type: 'commonjs' }, 'dist/cjs is marked CommonJS')
})

t.test('package.json metadata', async (t) => {
  t.equal(packageJson.license, 'MIT', 'license MIT')
  const license = readFileSync(join(repoRoot, 'LICENSE'), 'utf8')
  t.match(license, /^MIT License\n/, 'LICENSE is the MIT text')
  t.match(license, /Copyright \(c\) \d{4} fastify-websocket-native contributors/, 'with the copyright line')
  const pkg = packageJson as typeof packageJson & Record<string, unknown>
  t.same(pkg.engines, { node: '>=20' }, 'engines: Node 20 and later, as Fastify 5')
  t.match(pkg.repository, { type: 'git', url: /^git\+https:\/\/.+\.git$/ }, 'repository')
  t.ok(Array.isArray(pkg.keywords) && (pkg.keywords as string[]).includes('fastify'), 'keywords')
  t.equal(pkg.main, './dist/index.cjs', 'main: the CommonJS entry, for resolvers without `exports`')
  t.equal(pkg.types, './dist/index.d.cts', 'types: its declarations')
  t.same(pkg.files, ['dist'], 'files: dist (the build cleans it first)')
  t.same((pkg.exports as Record<string, unknown>)['./package.json'], './package.json', 'package.json is readable by tools')
})
