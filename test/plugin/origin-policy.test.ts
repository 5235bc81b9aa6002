/**
 * The Origin policy (issue 13): `allowedOrigins` (exact origins, RegExps, a sync or async
 * function) and `requireOrigin`, plugin-wide and per route. A mismatch is a 403 before any
 * routing, hook or handler, never a 101 followed by a close.
 */
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import websocket, { type WebSocketPluginOptions } from '../../src/index.js'
import { RawClient, handshakeRequest } from '../helpers/raw-client.js'

/** An app whose hook and handler count what reaches them; upgrades with `origin` and report. */
async function attempt (t: Test, plugin: WebSocketPluginOptions, route: object | true, origin: string | null): Promise<{ status: number, body: string, hooks: number, handlers: number }> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket, plugin)
  let hooks = 0
  let handlers = 0
  app.addHook('onRequest', async () => { hooks++ })
  app.get('/ws', { websocket: route as never }, (socket) => { handlers++; socket.close() })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const client = await RawClient.connect((app.server.address() as { port: number }).port)
  t.teardown(() => client.destroy())
  client.write(handshakeRequest({ path: '/ws', headers: { Origin: origin } }))
  const response = await client.readResponse()
  return { status: response.statusCode, body: response.body.toString(), hooks, handlers }
}

t.test('exact origins, RegExps, functions; missing Origin passes unless required', async (t) => {
  const cases: Array<[string, WebSocketPluginOptions, string | null, number]> = [
    ['no policy: any origin', {}, 'https://evil.example', 101],
    ['exact match', { allowedOrigins: ['http://127.0.0.1:3000'] }, 'http://127.0.0.1:3000', 101],
    ['exact mismatch (port)', { allowedOrigins: ['http://127.0.0.1:3000'] }, 'http://127.0.0.1:3001', 403],
    ['exact mismatch (scheme)', { allowedOrigins: ['https://app.example'] }, 'http://app.example', 403],
    ['a RegExp in the list', { allowedOrigins: ['https://a.example', /^https:\/\/[a-z]+\.b\.example$/] }, 'https://x.b.example', 101],
    ['a RegExp that does not match', { allowedOrigins: [/^https:\/\/[a-z]+\.b\.example$/] }, 'https://x.b.example.evil', 403],
    ['a global RegExp twice in a row is still right', { allowedOrigins: /^https:\/\/ok\.example$/g }, 'https://ok.example', 101],
    ['a sync function', { allowedOrigins: (origin) => origin.endsWith('.trusted') }, 'https://app.trusted', 101],
    ['an async function that says no', { allowedOrigins: async () => await Promise.resolve(false) }, 'https://app.trusted', 403],
    ['no Origin (a non-browser client) passes', { allowedOrigins: ['https://app.example'] }, null, 101],
    ['no Origin with requireOrigin', { allowedOrigins: ['https://app.example'], requireOrigin: true }, null, 403],
    ['the null origin (sandboxed pages) is just another origin', { allowedOrigins: ['https://app.example'] }, 'null', 403]
  ]
  for (const [name, plugin, origin, status] of cases) {
    const result = await attempt(t, plugin, true, origin)
    t.equal(result.status, status, `${name}: ${status}`)
    if (status === 403) {
      t.equal(result.hooks, 0, `${name}: no hook ran`)
      t.equal(result.handlers, 0, `${name}: no handler ran`)
      t.match(JSON.parse(result.body), { statusCode: 403, error: 'Forbidden' })
    }
  }
})

t.test('the 403 says which origin, as JSON', async (t) => {
  const result = await attempt(t, { allowedOrigins: ['https://app.example'] }, true, 'https://evil.example')
  t.same(JSON.parse(result.body), { statusCode: 403, error: 'Forbidden', message: 'origin "https://evil.example" is not allowed' })
})

t.test('per route: a route may set its own policy, or add requireOrigin to the plugin\'s', async (t) => {
  t.equal((await attempt(t, { allowedOrigins: ['https://a.example'] }, { allowedOrigins: ['https://b.example'] }, 'https://b.example')).status, 101)
  t.equal((await attempt(t, { allowedOrigins: ['https://a.example'] }, { allowedOrigins: ['https://b.example'] }, 'https://a.example')).status, 403)
  t.equal((await attempt(t, { allowedOrigins: ['https://a.example'] }, { requireOrigin: true }, null)).status, 403)
  t.equal((await attempt(t, {}, { allowedOrigins: ['https://a.example'] }, 'https://c.example')).status, 403)
})

t.test('the function gets the origin and the raw request; a throwing one is a 500', async (t) => {
  let seen: [string, string | undefined] | undefined
  const ok = await attempt(t, { allowedOrigins: (origin, request) => { seen = [origin, request.url]; return true } }, true, 'https://x.example')
  t.equal(ok.status, 101)
  t.same(seen, ['https://x.example', '/ws'])
  const failing = await attempt(t, { allowedOrigins: () => { throw new Error('db down') } }, true, 'https://x.example')
  t.equal(failing.status, 500)
  t.notMatch(failing.body, /db down/, 'no internal detail to the client')
  const rejecting = await attempt(t, { allowedOrigins: async () => { throw new Error('db down') } }, true, 'https://x.example')
  t.equal(rejecting.status, 500)
})

t.test('misconfigured policies fail register with FST_WS_INVALID_OPTION and the fix', async (t) => {
  const bad: Array<[WebSocketPluginOptions, RegExp]> = [
    [{ allowedOrigins: ['https://app.example/'] }, /did you mean "https:\/\/app\.example"\?/],
    [{ allowedOrigins: ['app.example'] }, /not an origin/],
    [{ allowedOrigins: [] }, /non-empty array/],
    [{ allowedOrigins: [42 as never] }, /origins \(strings\) and RegExps/],
    [{ requireOrigin: true }, /requireOrigin.*allowedOrigins/],
    [{ allowedOrigins: ['https://a.example'], requireOrigin: 'yes' as never }, /requireOrigin.*boolean/]
  ]
  for (const [options, message] of bad) {
    await t.rejects(async () => { await Fastify().register(websocket, options) }, { code: 'FST_WS_INVALID_OPTION', message })
  }
})
