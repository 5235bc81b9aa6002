// The client side of the opening handshake (RFC 6455 §4.1): the request we send, parsing the
// server's response head, and checking the 101.
import t from 'tap'
import {
  buildClientRequest,
  computeAcceptKey,
  findHeadEnd,
  generateClientKey,
  parseResponseHead,
  validateClientHandshake,
  validateServerHandshake,
  type HeaderBag,
  type HttpResponseHead
} from '../../src/protocol/index.js'

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='

/** Parses a request head the way Node would present it to the server (names lower-cased). */
function parseRequest (text: string): { method: string, path: string, httpVersion: string, headers: HeaderBag } {
  const [line, ...rest] = text.split('\r\n')
  const [method, path, version] = line.split(' ')
  const headers: HeaderBag = {}
  for (const header of rest) {
    if (header === '') continue
    const colon = header.indexOf(':')
    const name = header.slice(0, colon).toLowerCase()
    const value = header.slice(colon + 1).trim()
    const existing = headers[name]
    headers[name] = existing === undefined ? value : `${String(existing)}, ${value}`
  }
  return { method, path, httpVersion: version.replace('HTTP/', ''), headers }
}

t.test('generateClientKey: base64 of 16 random bytes, fresh each time', async (t) => {
  const keys = new Set<string>()
  const bad: string[] = []
  for (let i = 0; i < 50; i++) {
    const key = generateClientKey()
    keys.add(key)
    if (Buffer.from(key, 'base64').length !== 16 || !/^[A-Za-z0-9+/]{22}==$/.test(key)) bad.push(key)
  }
  t.same(bad, [], 'all keys are base64 of 16 bytes')
  t.equal(keys.size, 50)
  const key = generateClientKey()
  t.match(validateClientHandshake({ method: 'GET', httpVersion: '1.1', headers: { host: 'h', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': key } }),
    { ok: true, key }, 'our server accepts it')
})

t.test('buildClientRequest: the request text', async (t) => {
  t.equal(buildClientRequest({ host: 'example.com:8080', path: '/chat?room=1', key: KEY }),
    'GET /chat?room=1 HTTP/1.1\r\n' +
    'Host: example.com:8080\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${KEY}\r\n` +
    'Sec-WebSocket-Version: 13\r\n' +
    '\r\n')
  const full = buildClientRequest({
    host: 'h',
    path: '/',
    key: KEY,
    protocols: ['chat', 'superchat'],
    headers: { Cookie: 'a=1', 'X-Multi': ['1', '2'], upgrade: 'h2c', 'SEC-WEBSOCKET-KEY': 'evil', Host: 'other' }
  })
  t.equal(full,
    'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n` +
    'Sec-WebSocket-Protocol: chat, superchat\r\n' +
    'Cookie: a=1\r\nX-Multi: 1\r\nX-Multi: 2\r\n\r\n', 'managed headers cannot be overridden, in any case')
  t.equal(buildClientRequest({ host: 'h', path: '/', key: KEY, protocols: [] }).includes('Protocol'), false, 'no protocols: no header')

  // Our own server-side check accepts what the client sends.
  const parsed = parseRequest(full)
  t.match(validateClientHandshake(parsed), { ok: true, key: KEY, protocols: ['chat', 'superchat'] })
})

t.test('buildClientRequest: unsafe input throws', async (t) => {
  const base = { host: 'h', path: '/', key: KEY }
  t.throws(() => buildClientRequest({ ...base, path: '/a\r\nX: y' }), TypeError, 'CRLF in path')
  t.throws(() => buildClientRequest({ ...base, path: '/a\nb' }), TypeError, 'LF in path')
  t.throws(() => buildClientRequest({ ...base, host: 'h\r\n' }), TypeError, 'CRLF in host')
  t.throws(() => buildClientRequest({ ...base, host: 'h\0' }), TypeError, 'NUL in host')
  t.throws(() => buildClientRequest({ ...base, headers: { 'X-A': 'v\r\nInjected: 1' } }), TypeError, 'CRLF in a header value')
  t.throws(() => buildClientRequest({ ...base, headers: { 'X-A': ['ok', 'v\rw'] } }), TypeError, 'CR in an array item')
  t.throws(() => buildClientRequest({ ...base, headers: { 'X A': 'v' } }), TypeError, 'space in a header name')
  t.throws(() => buildClientRequest({ ...base, headers: { '': 'v' } }), TypeError, 'empty header name')
  t.throws(() => buildClientRequest({ ...base, protocols: ['a b'] }), TypeError, 'invalid subprotocol')
  t.throws(() => buildClientRequest({ ...base, protocols: [''] }), TypeError, 'empty subprotocol')
  t.throws(() => buildClientRequest({ ...base, protocols: ['chat', 'chat'] }), TypeError, 'duplicate subprotocols')
})

t.test('findHeadEnd', async (t) => {
  t.equal(findHeadEnd(Buffer.from('HTTP/1.1 101 OK\r\nA: b\r\n')), -1)
  t.equal(findHeadEnd(Buffer.from('')), -1)
  const head = 'HTTP/1.1 101 OK\r\nA: b\r\n\r\n'
  t.equal(findHeadEnd(Buffer.from(head)), head.length)
  t.equal(findHeadEnd(Buffer.concat([Buffer.from(head), Buffer.from([0x81, 0x00])])), head.length, 'frames after the head are not part of it')
})

t.test('parseResponseHead: valid heads', async (t) => {
  const parsed = parseResponseHead('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nconnection:Upgrade\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nSET-COOKIE: c=3\r\nX-Empty:\r\nX-Space:   padded   \r\n')
  t.ok(parsed)
  t.equal(parsed!.statusCode, 101)
  t.equal(parsed!.statusMessage, 'Switching Protocols')
  t.same({ ...parsed!.headers }, {
    upgrade: 'websocket',
    connection: 'Upgrade',
    'set-cookie': ['a=1', 'b=2', 'c=3'],
    'x-empty': '',
    'x-space': 'padded'
  })
  t.match(parseResponseHead('HTTP/1.0 400 Bad Request'), { statusCode: 400, statusMessage: 'Bad Request' })
  t.match(parseResponseHead('HTTP/1.1 101'), { statusCode: 101, statusMessage: '' }, 'no reason phrase')
  t.match(parseResponseHead('HTTP/1.1 426 Upgrade Required\r\n\r\n'), { statusCode: 426 }, 'blank lines are skipped')
  const proto = parseResponseHead('HTTP/1.1 101 OK\r\n__proto__: x\r\nconstructor: y')
  t.equal(proto!.headers.__proto__, 'x', 'no prototype: odd names are plain keys')
  t.equal(proto!.headers.constructor, 'y')
})

t.test('parseResponseHead: malformed heads are null', async (t) => {
  for (const head of [
    '',
    'HTTP/2 101 OK',
    'HTTP/1.1 1010 OK',
    'HTTP/1.1 10 OK',
    'HTTP/1.1  101 OK',
    'http/1.1 101 OK',
    'ICY 200 OK',
    'HTTP/1.1 101 OK\r\nno colon here',
    'HTTP/1.1 101 OK\r\n: empty name',
    'HTTP/1.1 101 OK\r\nBad Name: x',
    'HTTP/1.1 101 OK\r\nBad\tName: x'
  ]) {
    t.equal(parseResponseHead(head), null, JSON.stringify(head))
  }
})

function response (headers: Record<string, string | string[]>, statusCode = 101): HttpResponseHead {
  return { statusCode, statusMessage: '', headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': ACCEPT, ...headers } }
}

t.test('validateServerHandshake', async (t) => {
  t.same(validateServerHandshake(response({}), KEY, []), { ok: true, protocol: '' })
  t.same(validateServerHandshake(response({}), KEY, ['chat']), { ok: true, protocol: '' }, 'the server may pick no subprotocol')
  t.same(validateServerHandshake(response({ 'sec-websocket-protocol': 'chat' }), KEY, ['x', 'chat']), { ok: true, protocol: 'chat' })
  t.same(validateServerHandshake(response({ upgrade: 'WebSocket', connection: 'keep-alive, upgrade' }), KEY, []), { ok: true, protocol: '' })
  t.same(validateServerHandshake(response({ upgrade: ['h2c', 'websocket'], connection: ['Upgrade'] }), KEY, []), { ok: true, protocol: '' }, 'repeated headers')

  const failures: Array<[string, HttpResponseHead, string[]]> = [
    ['status 200', response({}, 200), []],
    ['status 426', response({}, 426), []],
    ['no Upgrade', { statusCode: 101, statusMessage: '', headers: { connection: 'Upgrade', 'sec-websocket-accept': ACCEPT } }, []],
    ['Upgrade: h2c', response({ upgrade: 'h2c' }), []],
    ['no Connection', { statusCode: 101, statusMessage: '', headers: { upgrade: 'websocket', 'sec-websocket-accept': ACCEPT } }, []],
    ['Connection: close', response({ connection: 'close' }), []],
    ['no accept', { statusCode: 101, statusMessage: '', headers: { upgrade: 'websocket', connection: 'Upgrade' } }, []],
    ['wrong accept', response({ 'sec-websocket-accept': computeAcceptKey('x3JJHMbDL1EzLkh9GBhXDw==') }), []],
    ['accept repeated', response({ 'sec-websocket-accept': [ACCEPT, ACCEPT] }), []],
    ['an extension we did not offer', response({ 'sec-websocket-extensions': 'permessage-deflate' }), []],
    ['a subprotocol we did not offer', response({ 'sec-websocket-protocol': 'other' }), ['chat']],
    ['a subprotocol when we offered none', response({ 'sec-websocket-protocol': 'chat' }), []],
    ['two subprotocols', response({ 'sec-websocket-protocol': 'chat, x' }), ['chat', 'x']],
    ['an empty subprotocol', response({ 'sec-websocket-protocol': '' }), ['chat']],
    ['a repeated subprotocol header', response({ 'sec-websocket-protocol': ['chat', 'chat'] }), ['chat']],
    ['an invalid subprotocol token', response({ 'sec-websocket-protocol': 'ch at' }), ['ch at']]
  ]
  for (const [name, head, offered] of failures) {
    const result = validateServerHandshake(head, KEY, offered)
    t.equal(result.ok, false, name)
    if (!result.ok) t.ok(result.reason.length > 0, `${name}: has a reason`)
  }
})
