/**
 * Websocket-only routes get `schema.hide = true` (issue 10), as @fastify/websocket gives them:
 * @fastify/swagger leaves them out of the documentation, and hooks that read
 * `routeOptions.schema` find an object. Routes with a `wsHandler` also serve plain HTTP and
 * stay documented.
 */
import t from 'tap'
import Fastify, { type RouteOptions } from 'fastify'
import swagger from '@fastify/swagger'
import websocket from '../../src/index.js'
import { withTimeout } from '../helpers/wait.js'

async function documentedApp (t: { teardown: (fn: () => unknown) => void }) {
  const app = Fastify({ logger: false })
  t.teardown(() => withTimeout(app.close(), 3000, 'app.close()'))
  await app.register(swagger, { openapi: { info: { title: 'test', version: '1.0.0' } } })
  await app.register(websocket)
  return app
}

t.test('@fastify/swagger leaves websocket-only routes out, and keeps HTTP and dual routes', async (t) => {
  const app = await documentedApp(t)
  app.get('/ws', { websocket: true }, () => {})
  app.get('/ws-with-schema', { websocket: true, schema: { querystring: { type: 'object', properties: { token: { type: 'string' } } } } }, () => {})
  app.route({ method: 'GET', url: '/dual', handler: async () => 'http', wsHandler: () => {} })
  app.get('/http', async () => 'plain')
  await app.ready()
  const paths = Object.keys((app.swagger() as { paths: Record<string, unknown> }).paths).sort()
  t.same(paths, ['/dual', '/http'])
})

t.test('hooks that read routeOptions.schema get an object on websocket routes', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => withTimeout(app.close(), 3000, 'app.close()'))
  await app.register(websocket)
  const seen: Array<[string, string, unknown]> = []
  // Added after the plugin: onRoute hooks run in order, so this one sees what the plugin set.
  app.addHook('onRoute', (route: RouteOptions) => {
    seen.push([String(route.method), route.url, (route.schema as { hide?: boolean }).hide])
  })
  app.get('/ws', { websocket: true }, () => {})
  await app.ready()
  t.same(seen, [['GET', '/ws', true], ['HEAD', '/ws', true]], 'the HEAD route Fastify adds is hidden too')
})

t.test('a schema object shared with an HTTP route is not changed: only the websocket route is hidden', async (t) => {
  const app = await documentedApp(t)
  const shared = { querystring: { type: 'object', properties: { q: { type: 'string' } } } }
  app.get('/search', { schema: shared }, async () => [])
  app.get('/search/live', { websocket: true, schema: shared }, () => {})
  await app.ready()
  t.same(Object.keys((app.swagger() as { paths: Record<string, unknown> }).paths), ['/search'])
  t.equal((shared as { hide?: boolean }).hide, undefined, 'the caller\'s schema object is untouched')
})

t.test('the websocket route\'s schema still validates the upgrade request', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => withTimeout(app.close(), 3000, 'app.close()'))
  await app.register(websocket)
  app.get('/ws', {
    websocket: true,
    schema: { querystring: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } } }
  }, (socket) => { socket.close() })
  const refusal = await app.injectWS('/ws').catch((error: unknown) => error)
  t.match(refusal, { statusCode: 400 })
  const socket = await app.injectWS('/ws', { query: { token: 'x' } })
  t.ok(socket)
  socket.terminate()
})
