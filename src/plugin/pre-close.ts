import type { FastifyInstance } from 'fastify'
import type { WebSocketPluginOptions } from './options.js'

type PreClose = NonNullable<WebSocketPluginOptions['preClose']>

/**
 * Calls a user's `preClose` in either of the shapes @fastify/websocket (and Fastify's own
 * `preClose` hook) accept, with `this` the Fastify instance:
 *
 * - `function (done) {}` (one declared parameter): finished when it calls `done()`; `done(error)`
 *   or a throw rejects. If it also returns a promise, a rejection of it rejects too.
 * - `async function () {}` or `function () {}`: finished when its promise settles (at once
 *   when it returns nothing).
 */
export async function callPreClose (preClose: PreClose, instance: FastifyInstance): Promise<void> {
  if (preClose.length === 0) {
    await preClose.call(instance, ignoreDone)
    return
  }
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      if (error !== undefined && error !== null) reject(error)
      else resolve()
    }
    const result = preClose.call(instance, done)
    if (isPromiseLike(result)) result.then(undefined, reject)
  })
}

/** The `done` a zero-parameter preClose never declared, should it call it through `arguments`. */
function ignoreDone (): void {}

function isPromiseLike (value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
