/**
 * A custom `preClose` in both shapes @fastify/websocket accepts (issue 10): `function (done)`
 * with `this` the Fastify instance (before, it was called with no arguments and `app.close()`
 * rejected with "done is not a function"), and `async () => {}`.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp, closeEvent, openWs } from '../helpers/app.js'
import { sleep, withTimeout } from '../helpers/wait.js'

t.test('preClose(done): this is the Fastify instance; app.close() waits for done()', async (t) => {
  let self: unknown
  let doneCalledAt = 0
  const { app, wsUrl } = await buildApp(t, {
    plugin: {
      preClose (this: FastifyInstance, done: (error?: Error) => void) {
        self = this
        for (const socket of this.websocketServer.clients) socket.close(1001, 'WS server is going offline in custom manner')
        setTimeout(() => { doneCalledAt = Date.now(); done() }, 100)
      }
    }
  })
  const client = await openWs(t, `${wsUrl}/echo`)
  const closed = closeEvent(client)
  await withTimeout(app.close(), 3000, 'app.close()')
  const closedAt = Date.now()
  t.equal(self, app, 'this is the instance')
  t.ok(doneCalledAt > 0 && closedAt >= doneCalledAt, 'app.close() resolved after done()')
  t.same(await closed, { code: 1001, reason: 'WS server is going offline in custom manner' })
})

t.test('preClose(done) calling done(error): app.close() rejects with it, as for any Fastify preClose hook', async (t) => {
  const { app } = await buildApp(t, {
    plugin: {
      preClose (done: (error?: Error) => void) { done(new Error('could not close')) }
    }
  })
  await t.rejects(withTimeout(app.close(), 3000, 'app.close()'), { message: 'could not close' })
})

t.test('preClose(done) that throws: app.close() rejects', async (t) => {
  const { app } = await buildApp(t, {
    plugin: {
      preClose (_done: (error?: Error) => void) { throw new Error('thrown') }
    }
  })
  await t.rejects(withTimeout(app.close(), 3000, 'app.close()'), { message: 'thrown' })
})

t.test('preClose(done) with websocketServer.close(done), @fastify/websocket\'s README shape', async (t) => {
  const { app, wsUrl } = await buildApp(t, {
    plugin: {
      preClose (this: FastifyInstance, done: (error?: Error) => void) {
        const server = this.websocketServer
        for (const socket of server.clients) socket.close(1001, 'going offline')
        server.close(done)
      }
    }
  })
  const client = await openWs(t, `${wsUrl}/echo`)
  const closed = closeEvent(client)
  await withTimeout(app.close(), 3000, 'app.close()')
  t.equal((await closed).code, 1001)
  t.equal(app.websocketServer.clients.size, 0, 'close(done) waited for the last socket')
})

t.test('async preClose without parameters: awaited, this is the instance', async (t) => {
  let finished = false
  let self: unknown
  const { app } = await buildApp(t, {
    plugin: {
      async preClose (this: FastifyInstance) {
        self = this
        await sleep(50)
        finished = true
      }
    }
  })
  await withTimeout(app.close(), 3000, 'app.close()')
  t.equal(finished, true)
  t.equal(self, app)
})

t.test('a plain function without parameters that returns nothing: done at once', async (t) => {
  let called = 0
  const { app } = await buildApp(t, { plugin: { preClose () { called++ } } })
  await withTimeout(app.close(), 3000, 'app.close()')
  t.equal(called, 1)
})

t.test('an async preClose(done) that rejects: app.close() rejects', async (t) => {
  const { app } = await buildApp(t, {
    plugin: {
      async preClose (_done: (error?: Error) => void) { throw new Error('async with done') }
    }
  })
  await t.rejects(withTimeout(app.close(), 3000, 'app.close()'), { message: 'async with done' })
})
