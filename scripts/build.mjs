// Builds the published package: one CommonJS implementation and thin wrappers per entry point.
//
//   dist/cjs/**            tsc's CommonJS output of src/ (js + d.ts), the only copy of the code
//   dist/<entry>.cjs       `require` entry: the plugin function itself as module.exports, with
//                          `.default` and every named export as properties (@fastify/websocket's shape)
//   dist/<entry>.d.cts     its types: `export =` the plugin, merged with a namespace of the exports
//   dist/<entry>.mjs       `import` entry: re-exports the very objects of the .cjs entry, so a class
//                          or plugin loaded by `import` is the one loaded by `require` (no dual-package
//                          hazard: there is nothing to duplicate)
//   dist/<entry>.d.mts     its types: re-exports the same declarations
//
// The entries are read from package.json `exports`: a target `./dist/<entry>.<ext>` is built from
// `src/<entry>.ts`. Adding a subpath is one `exports` entry, e.g. for src/adapters/redis/index.ts:
//
//   "./redis": {
//     "import": { "types": "./dist/adapters/redis/index.d.mts", "default": "./dist/adapters/redis/index.mjs" },
//     "require": { "types": "./dist/adapters/redis/index.d.cts", "default": "./dist/adapters/redis/index.cjs" }
//   }
//
// plus its line in "typesVersions" (for TypeScript's node10 resolution, which ignores `exports`):
//
//   "typesVersions": { "*": { "redis": ["./dist/adapters/redis/index.d.cts"] } }
//
// The build checks both and fails with a message naming what is wrong or missing. An entry whose
// default export is a function gets the plugin shape above; one without a default export is
// its exports object under `require` and its named exports under `import`.
//
// No source maps: the CommonJS output is src/ with its types removed (ES2022 target, same names,
// same structure), so stack traces read as they are, and maps would point at src/ files we would
// then have to ship as well.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
const cjsDir = join(dist, 'cjs')
const require = createRequire(import.meta.url)

/** The four files of every entry, `./dist/<entry><extension>`. */
const WRAPPER_EXTENSIONS = ['.cjs', '.d.cts', '.mjs', '.d.mts']
/** Where each wrapper must sit inside a subpath's conditions, so resolution picks the right file. */
const EXPECTED_CONDITIONS = {
  import: { types: '.d.mts', default: '.mjs' },
  require: { types: '.d.cts', default: '.cjs' }
}

function fail (message) {
  console.error(`build: ${message}`)
  process.exit(1)
}

/** `./dist/adapters/redis/index.d.cts` -> `{ entry: 'adapters/redis/index', extension: '.d.cts' }`. */
function parseTarget (target) {
  if (typeof target !== 'string' || !target.startsWith('./dist/')) return undefined
  const rest = target.slice('./dist/'.length)
  // Unambiguous: no extension in the list ends with another one.
  const extension = WRAPPER_EXTENSIONS.find((ext) => rest.endsWith(ext))
  return extension === undefined ? undefined : { entry: rest.slice(0, -extension.length), extension }
}

/** Checks one subpath's conditions and returns the entry it names (e.g. `index`). */
function readSubpath (subpath, conditions) {
  if (typeof conditions !== 'object' || conditions === null) fail(`exports["${subpath}"] must be an object of conditions`)
  const keys = Object.keys(conditions)
  if (keys.join() !== 'import,require') fail(`exports["${subpath}"] must have exactly "import" then "require", got ${JSON.stringify(keys)}`)
  let entry
  for (const [condition, expected] of Object.entries(EXPECTED_CONDITIONS)) {
    const branch = conditions[condition]
    // "types" must come first in each branch: resolution takes the first matching condition.
    if (Object.keys(branch ?? {}).join() !== 'types,default') fail(`exports["${subpath}"].${condition} must be { "types", "default" } in that order`)
    for (const [key, extension] of Object.entries(expected)) {
      const target = branch[key]
      const parsed = parseTarget(target)
      if (parsed?.extension !== extension) fail(`exports["${subpath}"].${condition}.${key} must be ./dist/<entry>${extension}, got ${JSON.stringify(target)}`)
      if (entry !== undefined && parsed.entry !== entry) fail(`exports["${subpath}"] mixes entries "${entry}" and "${parsed.entry}"`)
      entry = parsed.entry
    }
  }
  if (!existsSync(join(root, 'src', `${entry}.ts`))) fail(`exports["${subpath}"] names src/${entry}.ts, which does not exist`)
  return entry
}

function readEntries () {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const entries = []
  for (const [subpath, conditions] of Object.entries(pkg.exports)) {
    if (subpath === './package.json') continue
    entries.push({ subpath, entry: readSubpath(subpath, conditions) })
  }
  const main = entries.find((e) => e.subpath === '.')
  if (main === undefined) fail('exports has no "." entry')
  // TypeScript's node10 resolution (the default of `"module": "commonjs"` projects) ignores
  // `exports`; it finds a subpath's types only through `typesVersions`.
  const expectedTypesVersions = Object.fromEntries(entries.filter((e) => e.subpath !== '.').map((e) => [e.subpath.slice(2), [`./dist/${e.entry}.d.cts`]]))
  const typesVersions = Object.keys(expectedTypesVersions).length === 0 ? undefined : { '*': expectedTypesVersions }
  if (JSON.stringify(pkg.typesVersions) !== JSON.stringify(typesVersions)) {
    fail(`package.json "typesVersions" must be ${typesVersions === undefined ? 'absent' : JSON.stringify(typesVersions)} (one line per subpath, in exports order)`)
  }
  // Resolvers that ignore `exports` (TypeScript's node10, old bundlers) read these instead.
  if (pkg.main !== `./dist/${main.entry}.cjs` || pkg.types !== `./dist/${main.entry}.d.cts`) {
    fail(`"main" and "types" must be ./dist/${main.entry}.cjs and ./dist/${main.entry}.d.cts`)
  }
  return entries
}

/** Names the compiled entry exports: runtime values from the JS, type-only names from the d.ts. */
function analyse (entry) {
  const jsFile = join(cjsDir, `${entry}.js`)
  const dtsFile = join(cjsDir, `${entry}.d.ts`)
  const exportsObject = require(jsFile)
  const values = Object.keys(exportsObject).filter((name) => name !== 'default' && name !== '__esModule')
  const hasDefault = 'default' in exportsObject

  const program = ts.createProgram([dtsFile], { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, noEmit: true, skipLibCheck: true, types: ['node'] })
  const checker = program.getTypeChecker()
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(dtsFile))
  const declared = checker.getExportsOfModule(moduleSymbol).map((symbol) => symbol.getName())
  const missing = values.filter((name) => !declared.includes(name))
  if (missing.length > 0) fail(`src/${entry}.ts: runtime exports without declarations: ${missing.join(', ')}`)
  if (hasDefault !== declared.includes('default')) fail(`src/${entry}.ts: the default export exists in only one of JS and d.ts`)
  const typeOnly = declared.filter((name) => name !== 'default' && !values.includes(name))

  let defaultName
  if (hasDefault) {
    if (typeof exportsObject.default !== 'function') fail(`src/${entry}.ts: a default export must be a function (the plugin)`)
    // The ESM types re-export the default by name: `export { websocket as default }` means the
    // same under every moduleResolution, where re-exporting `default` from CommonJS does not.
    defaultName = values.find((name) => exportsObject[name] === exportsObject.default)
    if (defaultName === undefined) fail(`src/${entry}.ts: export the default under a name too (\`export { plugin }\`)`)
    // The named exports become properties of the plugin function, whose own `name` and
    // `length` are read-only.
    const clashing = values.filter((name) => name === 'name' || name === 'length')
    if (clashing.length > 0) fail(`src/${entry}.ts: ${clashing.join(', ')} cannot be exported: they would overwrite the plugin function's own properties`)
  }
  return { values, typeOnly, defaultName }
}

const HEADER = '// Generated by scripts/build.mjs: a thin wrapper over the one CommonJS build in cjs/.\n'

function importPath (fromFile, toFile) {
  const path = relative(dirname(fromFile), toFile).split(sep).join('/')
  return path.startsWith('.') ? path : `./${path}`
}

function writeWrappers ({ entry }, { values, typeOnly, defaultName }) {
  const base = join(dist, entry)
  mkdirSync(dirname(base), { recursive: true })
  const implementation = importPath(base, join(cjsDir, `${entry}.js`))
  const cjsEntry = importPath(base, `${base}.cjs`)

  // require: module.exports is the plugin itself, as in @fastify/websocket, so
  // `app.register(require('fastify-websocket-native'))` works; `.default` and the named exports
  // hang off it. An entry without a default export is tsc's exports object as it is.
  const cjs = defaultName === undefined
    ? [`'use strict'`, `module.exports = require('${implementation}')`]
    : [
        `'use strict'`,
        `const implementation = require('${implementation}')`,
        `module.exports = implementation.default`,
        `module.exports.default = implementation.default`,
        ...values.map((name) => `module.exports.${name} = implementation.${name}`)
      ]
  writeFileSync(`${base}.cjs`, HEADER + cjs.join('\n') + '\n')

  const dcts = defaultName === undefined
    ? [`export * from '${implementation}'`]
    : [
        `import * as implementation from '${implementation}'`,
        // `export import` cannot alias what was exported with `export type` (TS1379), so
        // type-only names are imported as types and exported from the namespace by name.
        ...(typeOnly.length === 0 ? [] : [`import type { ${typeOnly.join(', ')} } from '${implementation}'`]),
        `declare function ${defaultName} (...args: Parameters<typeof implementation.default>): ReturnType<typeof implementation.default>`,
        `declare namespace ${defaultName} {`,
        ...values.map((name) => `  export import ${name} = implementation.${name}`),
        `  export { ${[`${defaultName} as default`, ...typeOnly].join(', ')} }`,
        '}',
        `export = ${defaultName}`
      ]
  writeFileSync(`${base}.d.cts`, HEADER + dcts.join('\n') + '\n')

  // import: the same objects, read from the .cjs entry (not re-evaluated: one module instance).
  const mjs = [
    `import implementation from '${cjsEntry}'`,
    ...(defaultName === undefined ? [] : ['export default implementation.default']),
    ...(values.length === 0 ? [] : [`export const { ${values.join(', ')} } = implementation`])
  ]
  writeFileSync(`${base}.mjs`, HEADER + mjs.join('\n') + '\n')

  const dmts = [
    `export * from '${implementation}'`,
    ...(defaultName === undefined ? [] : [`export { ${defaultName} as default } from '${implementation}'`])
  ]
  writeFileSync(`${base}.d.mts`, HEADER + dmts.join('\n') + '\n')
}

/**
 * src/ is compiled to CommonJS, where `exports`, `module` and `require` are the module wrapper's
 * own variables: a local of one of those names compiles without a word and then shadows them
 * (`exports.Op` inside a function that declares `const exports` reads the local). Refused here.
 */
function checkCommonJsNames (directory) {
  const shadowing = /\b(?:const|let|var|function|class)\s+(exports|module|require)\b|[(,]\s*(exports|module|require)\s*[:,)=]/
  for (const name of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, name.name)
    if (name.isDirectory()) {
      checkCommonJsNames(path)
      continue
    }
    if (!name.name.endsWith('.ts')) continue
    readFileSync(path, 'utf8').split('\n').forEach((line, index) => {
      const match = shadowing.exec(line.replace(/\/\/.*$/, ''))
      if (match !== null) fail(`${relative(root, path)}:${index + 1} declares "${match[1] ?? match[2]}", which shadows CommonJS's own in the dist/cjs build; rename it`)
    })
  }
}

const entries = readEntries()
checkCommonJsNames(join(root, 'src'))
rmSync(dist, { recursive: true, force: true })
const tsc = require.resolve('typescript/bin/tsc')
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
} catch {
  fail('tsc failed')
}
// The root package is "type": "module"; this marks the compiled tree as CommonJS for Node and
// for TypeScript's nodenext resolution alike.
writeFileSync(join(cjsDir, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n')
for (const entry of entries) writeWrappers(entry, analyse(entry.entry))
console.log(`build: dist/cjs + wrappers for ${entries.map((e) => `"${e.subpath}" (src/${e.entry}.ts)`).join(', ')}`)
