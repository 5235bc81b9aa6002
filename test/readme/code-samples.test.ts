/**
 * Every ```ts block of README.md and MIGRATING.md compiles under `strict` TypeScript, and the
 * ones that can run, run (issue 10: the quick start did not compile, `request.query` being
 * `unknown` without the route generic). New blocks are picked up by themselves.
 *
 * How a block becomes a file:
 *
 * - A block with `import` lines is a whole module and is compiled as it is.
 * - A block without is a fragment of an app: it is compiled after a prelude that imports
 *   Fastify and the plugin and declares `const app = Fastify()`, registered with the plugin
 *   (unless the block registers it itself).
 * - An HTML comment on the line before the fence, `<!-- readme-test: ... -->`, adds hidden
 *   declarations for names the block uses without defining them (`declare function loadUser
 *   (...): ...`). Starting it with `no-run;` makes the block typecheck-only.
 * - `'fastify-websocket-native'` (and its subpaths) resolve to src/, so the samples check the
 *   code of this checkout, built or not.
 *
 * Running: a block runs in its own `node` (with the TypeScript loader tap uses) unless it
 * listens on a port or connects to a server (`.listen(`, `connect(`), which no test should do
 * on fixed ports; a fragment's app is then made ready and closed. A run passes when it exits 0
 * within 30 s.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const DOCUMENTS = ['README.md', 'MIGRATING.md']
const RUN_TIMEOUT = 30_000

interface Sample {
  /** `README.md:38`: where the fence opens. */
  where: string
  document: string
  /** Line number (1-based) of the block's first line of code. */
  firstLine: number
  code: string
  /** From the readme-test comment. */
  declarations: string
  noRun: boolean
}

/** The ```ts (or ```typescript) blocks of a Markdown file, with their readme-test comments. */
export function extractSamples (document: string, markdown: string): Sample[] {
  const lines = markdown.split('\n')
  const samples: Sample[] = []
  for (let index = 0; index < lines.length; index++) {
    const fence = /^```(ts|typescript)\s*$/.exec(lines[index])
    if (fence === null) continue
    const end = lines.findIndex((line, at) => at > index && /^```\s*$/.test(line))
    if (end === -1) throw new Error(`${document}:${index + 1}: a ${fence[1]} block that never closes`)
    const comment = /^<!--\s*readme-test:(.*)-->\s*$/.exec(lines[index - 1] ?? '')
    let declarations = comment?.[1].trim() ?? ''
    const noRun = declarations.startsWith('no-run;') || declarations === 'no-run'
    if (noRun) declarations = declarations.replace(/^no-run;?/, '').trim()
    samples.push({
      where: `${document}:${index + 1}`,
      document,
      firstLine: index + 2,
      code: lines.slice(index + 1, end).join('\n'),
      declarations,
      noRun
    })
    index = end
  }
  return samples
}

/** `'fastify-websocket-native'` and its subpaths, mapped to the source entries they build from. */
function packageSpecifiers (): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string, exports: Record<string, unknown> }
  const map = new Map<string, string>()
  for (const [subpath, conditions] of Object.entries(pkg.exports)) {
    const target = (conditions as { require?: { default?: string } }).require?.default
    if (target === undefined) continue
    // ./dist/<entry>.cjs is built from src/<entry>.ts (see scripts/build.mjs).
    const entry = target.replace(/^\.\/dist\//, '').replace(/\.cjs$/, '')
    map.set(subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, join(repoRoot, 'src', `${entry}.js`))
  }
  return map
}

const PLUGIN = "'fastify-websocket-native'"

function isModule (code: string): boolean {
  return /^\s*import\s/m.test(code)
}

function needsNetwork (code: string): boolean {
  return /\.listen\(|\bconnect\(/.test(code)
}

interface SampleFile {
  sample: Sample
  path: string
  /** Lines added before the block's first line. */
  offset: number
  runnable: boolean
}

/** Writes one sample as a file: prelude, declarations, the block, and for fragments a ready/close. */
function writeSample (dir: string, index: number, sample: Sample, specifiers: Map<string, string>): SampleFile {
  const resolve = (specifier: string): string => {
    const target = specifiers.get(specifier)
    if (target === undefined) return specifier
    const path = relative(dir, target).split('\\').join('/')
    return path.startsWith('.') ? path : `./${path}`
  }
  const rewrite = (code: string): string => code.replace(/(['"])(fastify-websocket-native(?:\/[\w./-]+)?)\1/g, (whole, _quote: string, name: string) => {
    const resolved = resolve(name)
    return resolved === name ? whole : `'${resolved}'`
  })
  const header: string[] = []
  const fragment = !isModule(sample.code)
  if (fragment) {
    header.push(
      "import Fastify from 'fastify'",
      "import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'",
      `import websocket from ${PLUGIN}`,
      `import type { WebSocket, WebSocketHandler } from ${PLUGIN}`,
      'const app = Fastify()'
    )
    if (!/register\(websocket\b/.test(sample.code)) header.push('await app.register(websocket)')
  }
  if (sample.declarations !== '') header.push(sample.declarations)
  const footer = fragment ? ['', 'await app.ready()', 'await app.close()'] : []
  const body = [...header, sample.code, ...footer, 'export {}', ''].join('\n')
  const path = join(dir, `sample-${String(index).padStart(2, '0')}.ts`)
  writeFileSync(path, rewrite(body))
  return { sample, path, offset: header.length, runnable: !sample.noRun && !needsNetwork(sample.code) }
}

/** The repository's compiler options, strict, minus what samples need not satisfy. */
function compilerOptions (): ts.CompilerOptions {
  const configPath = join(repoRoot, 'tsconfig.json')
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot)
  return {
    ...parsed.options,
    strict: true,
    noEmit: true,
    // A sample shows a part of an app: an import it does not use yet is not an error.
    noUnusedLocals: false,
    noUnusedParameters: false,
    declaration: false,
    sourceMap: false,
    allowJs: false,
    checkJs: false,
    rootDir: undefined,
    outDir: undefined
  }
}

function formatDiagnostic (diagnostic: ts.Diagnostic, files: SampleFile[]): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
  const file = diagnostic.file
  if (file === undefined || diagnostic.start === undefined) return `TS${diagnostic.code}: ${message}`
  const { line } = file.getLineAndCharacterOfPosition(diagnostic.start)
  const sample = files.find((candidate) => candidate.path === file.fileName)
  if (sample === undefined) return `${file.fileName}:${line + 1}: TS${diagnostic.code}: ${message}`
  const inBlock = line - sample.offset
  const where = inBlock >= 0 ? `${sample.sample.document}:${sample.sample.firstLine + inBlock}` : `${sample.sample.where} (prelude)`
  return `${where}: TS${diagnostic.code}: ${message}`
}

async function runSample (file: string): Promise<{ code: number | null, output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' }
  delete env.NODE_OPTIONS
  delete env.NODE_V8_COVERAGE
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=@tapjs/typescript/import', file], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT)
    child.on('error', (error) => { clearTimeout(timer); reject(error) })
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output: output.slice(-4000) }) })
  })
}

const samples = DOCUMENTS.flatMap((document) => extractSamples(document, readFileSync(join(repoRoot, document), 'utf8')))

t.test('the documents have TypeScript samples to check', async (t) => {
  t.ok(samples.filter((sample) => sample.document === 'README.md').length >= 8, `${samples.length} blocks found`)
  t.ok(samples.some((sample) => sample.document === 'MIGRATING.md'), 'MIGRATING.md too')
})

t.test('the extractor: fences, readme-test comments, line numbers', async (t) => {
  const markdown = ['# x', '<!-- readme-test: no-run; declare const a: number -->', '```ts', 'a + 1', '```', '```js', 'not this', '```', '```typescript', 'b', '```'].join('\n')
  t.same(extractSamples('doc.md', markdown), [
    { where: 'doc.md:3', document: 'doc.md', firstLine: 4, code: 'a + 1', declarations: 'declare const a: number', noRun: true },
    { where: 'doc.md:9', document: 'doc.md', firstLine: 10, code: 'b', declarations: '', noRun: false }
  ])
  t.throws(() => extractSamples('doc.md', '```ts\nopen'), /doc\.md:1: a ts block that never closes/)
})

t.test('every sample compiles under strict TypeScript', async (t) => {
  // Inside the repository (its node_modules and package.json "type" apply), outside src/ and
  // test/ (tsc -p tsconfig.json never sees it), removed afterwards.
  const dir = mkdtempSync(join(repoRoot, '.readme-samples-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const specifiers = packageSpecifiers()
  const files = samples.map((sample, index) => writeSample(dir, index, sample, specifiers))
  const program = ts.createProgram(files.map((file) => file.path), compilerOptions())
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((diagnostic) => files.some((file) => file.path === diagnostic.file?.fileName))
  for (const file of files) {
    const own = diagnostics.filter((diagnostic) => diagnostic.file?.fileName === file.path)
    t.same(own.map((diagnostic) => formatDiagnostic(diagnostic, files)), [], `${file.sample.where} compiles`)
  }

  const runnable = files.filter((file) => file.runnable)
  t.ok(runnable.length >= 5, `${runnable.length} samples can run`)
  // Two at a time: the machine is shared.
  const queue = [...runnable]
  const results = new Map<SampleFile, { code: number | null, output: string }>()
  await Promise.all([0, 1].map(async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) results.set(file, await runSample(file.path))
  }))
  for (const file of runnable) {
    const result = results.get(file)
    t.equal(result?.code, 0, `${file.sample.where} runs`, { output: result?.output })
  }
})
