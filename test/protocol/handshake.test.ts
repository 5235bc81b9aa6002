// The server side of the opening handshake (RFC 6455 §4.2): validating the client's request
// (failures are values with an HTTP status), the accept key, and the 101 response text.
import t from 'tap'
import {
  buildAcceptResponse,
  computeAcceptKey,
  validateClientHandshake,
  type HandshakeRequest,
  type HeaderBag
} from '../../src/protocol/index.js'

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

const BASE: HeaderBag = {
  host: 'example.com',
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-version': '13',
  'sec-websocket-key': KEY
}

function request (headers: HeaderBag = {}, line: { method?: string | undefined, httpVersion?: string } = {}): HandshakeRequest {
  const merged: HeaderBag = { ...BASE, ...headers }
  for (const name of Object.keys(merged)) if (merged[name] === undefined) delete merged[name]
  return { method: 'method' in line ? line.method : 'GET', httpVersion: line.httpVersion ?? '1.1', headers: merged }
}

const key15 = Buffer.alloc(15, 1).toString('base64') // 20 characters, no padding
const key17 = Buffer.alloc(17, 1).toString('base64') // 24 characters, one '='
const key13 = Buffer.alloc(13, 1).toString('base64') // 20 characters ending in '=='
const key19 = Buffer.alloc(19, 1).toString('base64') // 28 characters ending in '=='

t.test('a valid request is accepted', async (t) => {
  t.same(validateClientHandshake(request()), { ok: true, key: KEY, protocols: [], extensions: undefined })
})

t.test('400s and 426s', async (t) => {
  const cases: Array<[string, HandshakeRequest, number]> = [
    ['POST', request({}, { method: 'POST' }), 400],
    ['lower-case get', request({}, { method: 'get' }), 400],
    ['HEAD', request({}, { method: 'HEAD' }), 400],
    ['no method', request({}, { method: undefined }), 400],
    ['HTTP/1.0', request({}, { httpVersion: '1.0' }), 400],
    ['HTTP/0.9', request({}, { httpVersion: '0.9' }), 400],
    ['HTTP version "1"', request({}, { httpVersion: '1' }), 400],
    ['empty HTTP version', request({}, { httpVersion: '' }), 400],
    ['garbage HTTP version', request({}, { httpVersion: 'x.y' }), 400],
    ['missing Host', request({ host: undefined }), 400],
    ['repeated Host (array)', request({ host: ['a', 'b'] }), 400],
    ['missing Upgrade', request({ upgrade: undefined }), 400],
    ['Upgrade: h2c', request({ upgrade: 'h2c' }), 400],
    ['Upgrade: websockets', request({ upgrade: 'websockets' }), 400],
    ['Upgrade: web socket', request({ upgrade: 'web socket' }), 400],
    ['empty Upgrade', request({ upgrade: '' }), 400],
    ['missing Connection', request({ connection: undefined }), 400],
    ['Connection: keep-alive', request({ connection: 'keep-alive' }), 400],
    ['Connection: upgrades', request({ connection: 'upgrades' }), 400],
    ['Connection: close', request({ connection: 'close' }), 400],
    ['missing key', request({ 'sec-websocket-key': undefined }), 400],
    ['empty key', request({ 'sec-websocket-key': '' }), 400],
    ['key of 15 bytes', request({ 'sec-websocket-key': key15 }), 400],
    ['key of 17 bytes', request({ 'sec-websocket-key': key17 }), 400],
    ['key of 13 bytes (also "==" padded)', request({ 'sec-websocket-key': key13 }), 400],
    ['key of 19 bytes (also "==" padded)', request({ 'sec-websocket-key': key19 }), 400],
    ['key without padding', request({ 'sec-websocket-key': KEY.slice(0, 22) }), 400],
    ['key with one "="', request({ 'sec-websocket-key': KEY.slice(0, 23) }), 400],
    ['key with a non-base64 character', request({ 'sec-websocket-key': '*GhlIHNhbXBsZSBub25jZQ==' }), 400],
    ['two keys joined by Node', request({ 'sec-websocket-key': `${KEY}, ${KEY}` }), 400],
    ['two keys as an array', request({ 'sec-websocket-key': [KEY, KEY] }), 400],
    ['invalid subprotocol token', request({ 'sec-websocket-protocol': 'chat, a b' }), 400],
    ['quoted subprotocol', request({ 'sec-websocket-protocol': '"chat"' }), 400],
    ['subprotocol with parameters', request({ 'sec-websocket-protocol': 'chat;v=1' }), 400],
    ['non-ASCII subprotocol', request({ 'sec-websocket-protocol': 'chät' }), 400],
    ['version 8', request({ 'sec-websocket-version': '8' }), 426],
    ['version 14', request({ 'sec-websocket-version': '14' }), 426],
    ['missing version', request({ 'sec-websocket-version': undefined }), 426],
    ['empty version', request({ 'sec-websocket-version': '' }), 426],
    ['two versions joined', request({ 'sec-websocket-version': '13, 8' }), 426],
    ['two versions as an array', request({ 'sec-websocket-version': ['13', '13'] }), 426]
  ]
  for (const [name, req, status] of cases) {
    const result = validateClientHandshake(req)
    if (result.ok) {
      t.fail(`${name}: accepted`)
      continue
    }
    t.equal(result.status, status, name)
    t.ok(result.reason.length > 0, `${name}: has a reason`)
    t.same(result.headers, status === 426 ? { 'sec-websocket-version': '13' } : {}, `${name}: response headers`)
  }
})

t.test('accepted variations', async (t) => {
  const cases: Array<[string, HandshakeRequest, string[]]> = [
    ['HTTP/2.0', request({}, { httpVersion: '2.0' }), []],
    ['HTTP/1.2', request({}, { httpVersion: '1.2' }), []],
    ['HTTP version "2"', request({}, { httpVersion: '2' }), []],
    ['Upgrade: WebSocket (case-insensitive)', request({ upgrade: 'WebSocket' }), []],
    ['Upgrade listing several', request({ upgrade: 'h2c, websocket' }), []],
    ['Upgrade as an array', request({ upgrade: ['h2c', 'websocket'] }), []],
    ['Connection: keep-alive, Upgrade', request({ connection: 'keep-alive, Upgrade' }), []],
    ['Connection: UPGRADE', request({ connection: 'UPGRADE' }), []],
    ['Connection: upgrade,keep-alive', request({ connection: 'upgrade,keep-alive' }), []],
    ['Connection with odd elements around', request({ connection: 'x y, "q", \tUpgrade\t' }), []],
    ['Connection as an array', request({ connection: ['keep-alive', 'Upgrade'] }), []],
    ['version with spaces', request({ 'sec-websocket-version': ' 13 ' }), []],
    ['subprotocols', request({ 'sec-websocket-protocol': 'chat, superchat' }), ['chat', 'superchat']],
    ['subprotocols with odd spacing and empty elements', request({ 'sec-websocket-protocol': ' ,chat ,, \tsuperchat, ' }), ['chat', 'superchat']],
    ['subprotocols in repeated headers', request({ 'sec-websocket-protocol': ['chat', 'v2.json, mqtt'] }), ['chat', 'v2.json', 'mqtt']],
    ['empty subprotocol header', request({ 'sec-websocket-protocol': '' }), []],
    ['subprotocol header of separators only', request({ 'sec-websocket-protocol': ' , , ' }), []]
  ]
  for (const [name, req, protocols] of cases) {
    const result = validateClientHandshake(req)
    t.match(result, { ok: true, key: KEY, protocols }, name)
    if (result.ok) t.same(result.protocols, protocols, `${name}: exactly these protocols`)
  }
})

t.test('the key is trimmed', async (t) => {
  t.match(validateClientHandshake(request({ 'sec-websocket-key': `  ${KEY}\t` })), { ok: true, key: KEY })
  const other = Buffer.alloc(16, 0xfb).toString('base64')
  t.match(validateClientHandshake(request({ 'sec-websocket-key': other })), { ok: true, key: other }, 'a key with + and /')
})

t.test('extensions are passed through as raw text', async (t) => {
  t.match(validateClientHandshake(request({ 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' })),
    { ok: true, extensions: 'permessage-deflate; client_max_window_bits' })
  t.match(validateClientHandshake(request({ 'sec-websocket-extensions': ['a', 'b; x=1'] })), { ok: true, extensions: 'a,b; x=1' })
})

t.test('checks run in order: the first problem is the one reported', async (t) => {
  const everythingWrong = request({ host: undefined, upgrade: undefined, 'sec-websocket-version': '8' }, { method: 'POST', httpVersion: '1.0' })
  t.match(validateClientHandshake(everythingWrong), { ok: false, status: 400, reason: /GET/ })
  t.match(validateClientHandshake(request({ upgrade: undefined, 'sec-websocket-version': '8' })), { ok: false, status: 400, reason: /Upgrade/ })
  t.match(validateClientHandshake(request({ 'sec-websocket-version': '8', 'sec-websocket-key': 'bad' })), { ok: false, status: 426 })
})

t.test('a 100 KiB subprotocol header of spaces and commas is parsed (linear time, no backtracking)', async (t) => {
  const filler = ' ,'.repeat(50 * 1024)
  t.match(validateClientHandshake(request({ 'sec-websocket-protocol': filler })), { ok: true, protocols: [] })
  t.match(validateClientHandshake(request({ 'sec-websocket-protocol': filler + 'chat' + filler })), { ok: true, protocols: ['chat'] })
  t.match(validateClientHandshake(request({ 'sec-websocket-protocol': filler + 'a b' })), { ok: false, status: 400 })
  const spaces = ' '.repeat(100 * 1024)
  t.match(validateClientHandshake(request({ 'sec-websocket-protocol': `chat${spaces}x` })), { ok: false, status: 400 }, 'spaces inside an element')
  t.match(validateClientHandshake(request({ 'sec-websocket-protocol': `chat${spaces},x` })), { ok: true, protocols: ['chat', 'x'] }, 'trailing spaces trimmed')
  t.match(validateClientHandshake(request({ connection: `${' ,'.repeat(50 * 1024)}upgrade` })), { ok: true }, 'the same for Connection')
  t.match(validateClientHandshake(request({ connection: `keep-alive${' '.repeat(100 * 1024)}` })), { ok: false, status: 400 })
})

t.test('computeAcceptKey: the RFC 6455 §1.3 example', async (t) => {
  t.equal(computeAcceptKey(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
  t.equal(computeAcceptKey('x3JJHMbDL1EzLkh9GBhXDw=='), 'HSmrc0sMlYUkAGmm5OPpG2HaGWk=', 'a second known pair')
})

t.test('buildAcceptResponse: the 101 response', async (t) => {
  t.equal(buildAcceptResponse(KEY, undefined),
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
    '\r\n')
  t.equal(buildAcceptResponse(KEY, 'chat', [['Set-Cookie', ['a=1', 'b=2']], ['X-Count', 3], ['X-Name', 'v']]),
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
    'Sec-WebSocket-Protocol: chat\r\n' +
    'Set-Cookie: a=1\r\n' +
    'Set-Cookie: b=2\r\n' +
    'X-Count: 3\r\n' +
    'X-Name: v\r\n' +
    '\r\n')
  t.equal(buildAcceptResponse(KEY, undefined, new Map([['x-a', 'b']])).split('\r\n')[4], 'x-a: b', 'any iterable of pairs')
  t.equal(buildAcceptResponse(KEY, undefined, [['X-Empty', []]]).includes('X-Empty'), false, 'an empty array adds nothing')
})

t.test('buildAcceptResponse rejects text that could split the response', async (t) => {
  for (const bad of ['a\r\nInjected: yes', 'a\nb', 'a\rb', 'a\0b', '\r\n']) {
    t.throws(() => buildAcceptResponse(KEY, undefined, [['X-Value', bad]]), TypeError, `value ${JSON.stringify(bad)}`)
    t.throws(() => buildAcceptResponse(KEY, undefined, [['X-Value', ['ok', bad]]]), TypeError, `array item ${JSON.stringify(bad)}`)
    t.throws(() => buildAcceptResponse(KEY, bad), TypeError, `subprotocol ${JSON.stringify(bad)}`)
  }
  for (const name of ['', 'X Value', 'X:Value', 'X\r\nY', 'Ünicode', 'a"b', '(x)']) {
    t.throws(() => buildAcceptResponse(KEY, undefined, [[name, 'v']]), TypeError, `name ${JSON.stringify(name)}`)
  }
  t.doesNotThrow(() => buildAcceptResponse(KEY, undefined, [["!#$%&'*+-.^_`|~09AZaz", 'tab\tand spaces are fine']]))
})
