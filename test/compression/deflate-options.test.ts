// The perMessageDeflate option: defaults, every field's validation, and the message naming it.
import t from 'tap'
import { resolvePerMessageDeflate, type PerMessageDeflateOptions } from '../../src/compression/index.js'

const DEFAULTS = {
  threshold: 1024,
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  zlibDeflateOptions: { level: -1, memLevel: 8, strategy: 0, chunkSize: 16384 },
  zlibInflateOptions: { chunkSize: 16384 },
  concurrencyLimit: 10
}

t.test('off, on, and defaults', async (t) => {
  t.equal(resolvePerMessageDeflate(undefined), null)
  t.equal(resolvePerMessageDeflate(false), null)
  t.same(resolvePerMessageDeflate(true), DEFAULTS)
  t.same(resolvePerMessageDeflate({}), DEFAULTS)
  const resolved = resolvePerMessageDeflate(true)
  t.ok(Object.isFrozen(resolved) && Object.isFrozen(resolved?.zlibDeflateOptions) && Object.isFrozen(resolved?.zlibInflateOptions), 'frozen')
})

t.test('every field taken as given', async (t) => {
  const options: PerMessageDeflateOptions = {
    threshold: 0,
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 8,
    clientMaxWindowBits: 9,
    zlibDeflateOptions: { level: 1, memLevel: 4, strategy: 2, chunkSize: 64 },
    zlibInflateOptions: { chunkSize: 1024 },
    concurrencyLimit: 1
  }
  const copy = structuredClone(options)
  t.same(resolvePerMessageDeflate(options), options)
  t.same(options, copy, 'the object passed in is not modified')
  t.equal(resolvePerMessageDeflate({ clientMaxWindowBits: true })?.clientMaxWindowBits, 15, 'true means 15, as in ws')
  t.equal(resolvePerMessageDeflate({ threshold: Infinity })?.threshold, Infinity)
  t.equal(resolvePerMessageDeflate({ concurrencyLimit: Infinity })?.concurrencyLimit, Infinity)
  t.equal(resolvePerMessageDeflate(Object.assign(Object.create(null), { threshold: 5 }))?.threshold, 5, 'null-prototype object')
})

t.test('bad values are refused with a message naming the field', async (t) => {
  const cases: Array<[unknown, ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, RegExp]> = [
    ['yes', TypeError, /^perMessageDeflate must be a boolean or an object, got "yes"$/],
    [1, TypeError, /^perMessageDeflate must be a boolean or an object, got 1$/],
    [null, TypeError, /perMessageDeflate must be a boolean or an object, got null/],
    [[], TypeError, /perMessageDeflate must be a boolean or an object/],
    [new Map(), TypeError, /perMessageDeflate must be a boolean or an object/],
    [{ thresold: 1 }, TypeError, /^perMessageDeflate\.thresold is not a permessage-deflate option$/],
    [{ threshold: -1 }, RangeError, /^perMessageDeflate\.threshold must be a non-negative integer \(bytes\) or Infinity, got -1$/],
    [{ threshold: 1.5 }, RangeError, /perMessageDeflate\.threshold/],
    [{ threshold: '1024' }, TypeError, /perMessageDeflate\.threshold must be .*, got "1024"/],
    [{ threshold: NaN }, RangeError, /perMessageDeflate\.threshold/],
    [{ serverNoContextTakeover: 1 }, TypeError, /^perMessageDeflate\.serverNoContextTakeover must be a boolean, got 1$/],
    [{ clientNoContextTakeover: 'true' }, TypeError, /perMessageDeflate\.clientNoContextTakeover must be a boolean/],
    [{ serverMaxWindowBits: 16 }, RangeError, /^perMessageDeflate\.serverMaxWindowBits must be an integer from 8 to 15, got 16$/],
    [{ serverMaxWindowBits: 7 }, RangeError, /perMessageDeflate\.serverMaxWindowBits/],
    [{ serverMaxWindowBits: true }, TypeError, /perMessageDeflate\.serverMaxWindowBits must be an integer from 8 to 15, got true/],
    [{ clientMaxWindowBits: 9.5 }, RangeError, /perMessageDeflate\.clientMaxWindowBits/],
    [{ clientMaxWindowBits: false }, TypeError, /perMessageDeflate\.clientMaxWindowBits/],
    [{ concurrencyLimit: 0 }, RangeError, /^perMessageDeflate\.concurrencyLimit must be a positive integer or Infinity, got 0$/],
    [{ concurrencyLimit: 2.5 }, RangeError, /perMessageDeflate\.concurrencyLimit/],
    [{ zlibDeflateOptions: 6 }, TypeError, /^perMessageDeflate\.zlibDeflateOptions must be an object, got 6$/],
    [{ zlibDeflateOptions: { level: 10 } }, RangeError, /^perMessageDeflate\.zlibDeflateOptions\.level must be an integer from -1 to 9, got 10$/],
    [{ zlibDeflateOptions: { memLevel: 0 } }, RangeError, /zlibDeflateOptions\.memLevel must be an integer from 1 to 9/],
    [{ zlibDeflateOptions: { strategy: 5 } }, RangeError, /zlibDeflateOptions\.strategy must be an integer from 0 to 4/],
    [{ zlibDeflateOptions: { chunkSize: 63 } }, RangeError, /zlibDeflateOptions\.chunkSize must be an integer from 64/],
    [{ zlibDeflateOptions: { windowBits: 15 } }, TypeError, /zlibDeflateOptions\.windowBits cannot be set: the window is negotiated/],
    [{ zlibDeflateOptions: { dictionary: Buffer.from('x') } }, TypeError, /zlibDeflateOptions\.dictionary cannot be set/],
    [{ zlibDeflateOptions: { flush: 2 } }, TypeError, /zlibDeflateOptions\.flush cannot be set/],
    [{ zlibDeflateOptions: { finishFlush: 2 } }, TypeError, /zlibDeflateOptions\.finishFlush cannot be set/],
    [{ zlibDeflateOptions: { info: true } }, TypeError, /zlibDeflateOptions\.info cannot be set/],
    [{ zlibDeflateOptions: { levle: 1 } }, TypeError, /^perMessageDeflate\.zlibDeflateOptions\.levle is not a supported zlib option \(supported: level, memLevel, strategy, chunkSize\)$/],
    [{ zlibInflateOptions: { maxOutputLength: 5 } }, TypeError, /zlibInflateOptions\.maxOutputLength cannot be set: the decompressed size is limited by maxMessageSize/],
    [{ zlibInflateOptions: { level: 1 } }, TypeError, /zlibInflateOptions\.level is not a supported zlib option \(supported: chunkSize\)/],
    [{ zlibInflateOptions: { chunkSize: 2 ** 31 } }, RangeError, /zlibInflateOptions\.chunkSize/],
    [{ zlibInflateOptions: null }, TypeError, /zlibInflateOptions must be an object, got null/],
    [{ threshold: Symbol('x') }, TypeError, /got Symbol\(x\)/],
    [{ threshold: () => 1 }, TypeError, /got a function/],
    [{ threshold: 10n }, TypeError, /got 10/]
  ]
  for (const [value, type, message] of cases) {
    t.throws(() => resolvePerMessageDeflate(value as PerMessageDeflateOptions), type, `${String(message)}`)
    try {
      resolvePerMessageDeflate(value as PerMessageDeflateOptions)
    } catch (error) {
      t.match((error as Error).message, message)
    }
  }
  // A custom name, for a route-level option, and an unserialisable value.
  const circular: Record<string, unknown> = {}
  circular.self = circular
  t.throws(() => resolvePerMessageDeflate({ threshold: circular } as unknown as PerMessageDeflateOptions, 'routes.perMessageDeflate'),
    { name: 'TypeError', message: /^routes\.perMessageDeflate\.threshold must be .*, got \[object Object\]$/ })
})
