// isToken, parseTokenList and hasToken (RFC 9110 §5.6): edge cases of list headers.
import t from 'tap'
import { hasToken, isToken, parseTokenList } from '../../src/protocol/index.js'

t.test('isToken: exactly the RFC 9110 tchar set, at least one character', async (t) => {
  const allowed: string[] = []
  for (let c = 0; c < 256; c++) if (isToken(String.fromCharCode(c))) allowed.push(String.fromCharCode(c))
  const expected = "!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~".split('')
  t.same(allowed, expected)
  t.equal(isToken(''), false)
  t.equal(isToken('chat.v2+json'), true)
  t.equal(isToken('a b'), false)
  t.equal(isToken('ok\u0100'), false, 'code points above 127 are not tchar')
  t.equal(isToken('x😀'), false)
})

t.test('parseTokenList', async (t) => {
  const cases: Array<[string, string[] | null]> = [
    ['', []],
    [' ', []],
    [',', []],
    [' , ,\t, ', []],
    ['a', ['a']],
    ['a,b', ['a', 'b']],
    [' a , b ', ['a', 'b']],
    ['\ta\t,\tb\t', ['a', 'b']],
    [',,a,,b,,', ['a', 'b']],
    ['a, a', ['a', 'a']],
    ['Chat, SuperChat', ['Chat', 'SuperChat']],
    ['v1.json, mqtt, wamp.2.json', ['v1.json', 'mqtt', 'wamp.2.json']],
    ['a b', null],
    ['a, b c', null],
    ['"quoted"', null],
    ['a;q=1', null],
    ['a=b', null],
    ['a\nb', null],
    ['a, \u00e9', null],
    ['a,\r', null],
    ['a/b', null],
    ['(x)', null]
  ]
  for (const [value, expected] of cases) t.same(parseTokenList(value), expected, JSON.stringify(value))
})

t.test('parseTokenList on long inputs', async (t) => {
  t.same(parseTokenList(' ,'.repeat(50 * 1024)), [])
  t.same(parseTokenList(`${' '.repeat(100 * 1024)}a${' '.repeat(100 * 1024)}`), ['a'])
  const many = Array.from({ length: 10000 }, (_, i) => `p${i}`)
  t.same(parseTokenList(many.join(', ')), many)
  t.equal(parseTokenList(`${'a,'.repeat(10000)}a b`), null, 'a bad element at the very end')
})

t.test('hasToken', async (t) => {
  const cases: Array<[string | undefined, string, boolean]> = [
    [undefined, 'upgrade', false],
    ['', 'upgrade', false],
    ['upgrade', 'upgrade', true],
    ['Upgrade', 'upgrade', true],
    ['UPGRADE', 'upgrade', true],
    ['keep-alive, Upgrade', 'upgrade', true],
    ['Upgrade, keep-alive', 'upgrade', true],
    ['keep-alive,Upgrade', 'upgrade', true],
    ['  upgrade  ', 'upgrade', true],
    ['\tupgrade\t,', 'upgrade', true],
    [',,upgrade,,', 'upgrade', true],
    ['keep-alive', 'upgrade', false],
    ['upgrades', 'upgrade', false],
    ['pre-upgrade', 'upgrade', false],
    ['up grade', 'upgrade', false],
    ['upgrade x', 'upgrade', false],
    ['"upgrade"', 'upgrade', false],
    ['x y z, upgrade', 'upgrade', true],
    ['websocket', 'websocket', true],
    ['WebSocket', 'websocket', true],
    ['h2c, WebSocket', 'websocket', true],
    ['websocket/13', 'websocket', false]
  ]
  for (const [value, wanted, expected] of cases) t.equal(hasToken(value, wanted), expected, `${JSON.stringify(value)} has ${wanted}`)
})

t.test('hasToken on long inputs', async (t) => {
  t.equal(hasToken(' ,'.repeat(50 * 1024), 'upgrade'), false)
  t.equal(hasToken(`${' ,'.repeat(50 * 1024)}Upgrade`, 'upgrade'), true)
  t.equal(hasToken(`upgrade${' '.repeat(100 * 1024)}`, 'upgrade'), true)
  t.equal(hasToken(`${'x'.repeat(100 * 1024)}, upgrade`, 'upgrade'), true)
})
