// Installs what the tests need beyond npm packages, when it is missing: Chromium (the browser
// tests drive it through playwright-core) and redis-server (the Redis adapter tests start
// their own). Run by `npm test` (pretest) and by .ci/run, so a fresh machine with Node and
// npm needs nothing done by hand. Debian's packages, through apt-get (as root, or with
// password-less sudo); `apt-get update` runs once, only when something is missing.
//
// CHROMIUM_PATH and REDIS_SERVER point the tests at other binaries; then nothing is installed
// for them. With nothing missing this prints nothing and takes a few milliseconds.
import { execFileSync, spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const redisServer = process.env.REDIS_SERVER ?? 'redis-server'

/** Whether `command` (a path, or a name looked up on PATH) can be executed. */
function runnable (command) {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command))
  return candidates.some((candidate) => {
    try {
      accessSync(candidate, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

const missing = []
if (!runnable(chromium)) {
  if (process.env.CHROMIUM_PATH !== undefined) fail(`CHROMIUM_PATH=${chromium} is not an executable`)
  missing.push('chromium')
}
if (!runnable(redisServer)) {
  if (process.env.REDIS_SERVER !== undefined) fail(`REDIS_SERVER=${redisServer} is not an executable`)
  missing.push('redis-server')
}
if (missing.length === 0) process.exit(0)

if (!runnable('apt-get')) {
  fail(`the tests need ${missing.join(' and ')}, and there is no apt-get here to install them: install ` +
    'them with your package manager, or point CHROMIUM_PATH / REDIS_SERVER at them')
}
const asRoot = process.getuid?.() === 0
if (!asRoot && !(runnable('sudo') && spawnSync('sudo', ['-n', 'true']).status === 0)) {
  fail(`the tests need ${missing.join(' and ')}: run \`sudo apt-get install -y ${missing.join(' ')}\` once, then npm test again`)
}
const prefix = asRoot ? [] : ['sudo', '-n']
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
console.error(`ensure-test-deps: installing ${missing.join(' and ')} (Debian packages) for the tests`)
try {
  run([...prefix, 'apt-get', 'update', '-qq'])
  run([...prefix, 'apt-get', 'install', '-y', '-qq', ...missing])
} catch (error) {
  fail(`apt-get could not install ${missing.join(' and ')}: ${error.message}`)
}
const stillMissing = [[chromium, 'chromium'], [redisServer, 'redis-server']].filter(([command, name]) => missing.includes(name) && !runnable(command))
if (stillMissing.length > 0) fail(`${stillMissing.map(([, name]) => name).join(' and ')} still missing after apt-get install`)

function run (argv) {
  execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env })
}

function fail (message) {
  console.error(`ensure-test-deps: ${message}`)
  process.exit(1)
}
