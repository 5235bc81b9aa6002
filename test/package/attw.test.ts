// @arethetypeswrong/cli on the packed tarball: for every entry point in `exports`, types must
// resolve and agree with the JavaScript (format, default export, `export =`) under TypeScript's
// node10, node16 (from CommonJS and from ESM) and bundler resolution.
import { join } from 'node:path'
import t from 'tap'
import { installedPackageDir, packageJson, packTarball, run } from './packed-project.js'

interface AttwResolution {
  resolution?: { fileName: string }
  implementationResolution?: { fileName: string }
}
interface AttwReport {
  problems: Record<string, unknown>
  analysis: {
    problems: unknown[]
    entrypoints: Record<string, { resolutions: Record<string, AttwResolution> }>
  }
}

const attw = join(installedPackageDir('@arethetypeswrong/cli'), 'dist', 'index.js')

t.test('attw finds no problems in the packed package', async (t) => {
  const tarball = await packTarball(t)
  // --no-definitely-typed: offline, and the package ships its own types.
  const result = await run(process.execPath, [attw, tarball, '--no-definitely-typed', '--format', 'json'], join(tarball, '..'))
  let report: AttwReport
  try {
    report = JSON.parse(result.stdout) as AttwReport
  } catch {
    t.fail('attw printed no JSON', { stdout: result.stdout, stderr: result.stderr })
    return
  }
  if (report.analysis.problems.length > 0) {
    // The table says which resolution mode fails and why; the JSON alone is hard to read.
    const table = await run(process.execPath, [attw, tarball, '--no-definitely-typed', '--format', 'ascii', '--no-color'], join(tarball, '..'))
    t.comment(table.stdout)
  }
  t.same(report.analysis.problems, [], 'no problems')
  t.same(report.problems, {}, 'no problems by kind')
  t.equal(result.code, 0, 'attw exits 0')

  const subpaths = Object.keys(packageJson.exports).filter((subpath) => subpath !== './package.json')
  t.same(Object.keys(report.analysis.entrypoints).sort(), [...subpaths, './package.json'].sort(), 'every exports entry was analysed')
  const root = `/node_modules/${packageJson.name}/`
  for (const subpath of subpaths) {
    const conditions = packageJson.exports[subpath] as Record<'import' | 'require', { types: string, default: string }>
    // Types and JavaScript of the same format, side by side, in every mode: node10 reads
    // "main"/"types" (the CommonJS entry), the others read `exports`.
    const expected: Record<string, [string, string]> = {
      node10: [conditions.require.types, conditions.require.default],
      'node16-cjs': [conditions.require.types, conditions.require.default],
      'node16-esm': [conditions.import.types, conditions.import.default],
      bundler: [conditions.import.types, conditions.import.default]
    }
    const { resolutions } = report.analysis.entrypoints[subpath]!
    t.same(Object.keys(resolutions).sort(), Object.keys(expected).sort(), `${subpath}: all four modes checked`)
    for (const [kind, files] of Object.entries(expected)) {
      const r = resolutions[kind]
      const found = [r?.resolution?.fileName.replace(root, './'), r?.implementationResolution?.fileName.replace(root, './')]
      // node10 finds a subpath's types through "typesVersions" only; Node itself resolves the
      // JavaScript through `exports`, which node10 ignores.
      if (kind === 'node10' && subpath !== '.') t.equal(found[0], files[0], `${subpath} ${kind}: ${files[0]}`)
      else t.same(found, files, `${subpath} ${kind}: ${files.join(' + ')}`)
    }
  }
})
