/**
 * Waiting, and nothing else: sleeps, turns of the event loop, and bounded waits. Every bounded
 * wait rejects with a labelled error after a timeout, so a hang fails the test fast instead of
 * stalling the run, and every listener a wait adds is removed when it settles.
 *
 * (Helpers live in test/helpers/ because tap runs every file of a test directory it is given,
 * and excludes only this folder.)
 */
import type { EventEmitter } from 'node:events'

/** Default bound for a wait, in milliseconds: generous, only there to turn a hang into a failure. */
export const WAIT = 3000

/** Rejects with a labelled error if `promise` does not settle within `ms`. */
export async function withTimeout<T> (promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** One turn of the event loop (after pending nextTicks, microtasks and I/O callbacks). */
export const turn = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

/**
 * The arguments of the next `event` on `emitter`, within `ms`. Rejects early when `rejectOn`
 * (say 'error') fires first.
 */
export async function once<T extends unknown[] = unknown[]> (
  emitter: EventEmitter,
  event: string,
  ms = WAIT,
  rejectOn?: string
): Promise<T> {
  let onEvent: ((...args: unknown[]) => void) | undefined
  let onReject: ((error: unknown) => void) | undefined
  try {
    return await withTimeout(new Promise<T>((resolve, reject) => {
      onEvent = (...args: unknown[]) => resolve(args as T)
      emitter.once(event, onEvent)
      if (rejectOn !== undefined) {
        onReject = (error: unknown) => reject(error)
        emitter.once(rejectOn, onReject)
      }
    }), ms, `'${event}'`)
  } finally {
    if (onEvent !== undefined) emitter.removeListener(event, onEvent)
    if (onReject !== undefined && rejectOn !== undefined) emitter.removeListener(rejectOn, onReject)
  }
}

/** Polls `condition` every few milliseconds until it holds, within `ms`. */
export async function until (condition: () => boolean, ms = WAIT, label = 'a condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`)
    await sleep(5)
  }
}

/** A promise settled from elsewhere (a server handler, an event), awaited with a bound. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (error: unknown) => void
  wait: (ms?: number, label?: string) => Promise<T>
}

export function deferred<T> (): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  // A deferred nobody awaits must not become an unhandled rejection.
  promise.catch(() => {})
  return { promise, resolve, reject, wait: async (ms = WAIT, label = 'a deferred value') => await withTimeout(promise, ms, label) }
}

/** Everything an emitter emitted, in order, as [event, ...args]; and bounded waits on it. */
export class EventLog {
  readonly events: Array<[string, ...unknown[]]> = []
  private readonly waiters: Array<() => void> = []

  constructor (emitter: EventEmitter, names: readonly string[]) {
    for (const name of names) {
      emitter.on(name, (...args: unknown[]) => {
        this.events.push([name, ...args])
        for (const wake of this.waiters.splice(0)) wake()
      })
    }
  }

  /** The events named `name`, each as its argument list. */
  of (name: string): unknown[][] {
    return this.events.filter((event) => event[0] === name).map((event) => event.slice(1))
  }

  count (name: string): number {
    return this.of(name).length
  }

  /** Waits until at least `n` events named `name` were logged; returns the n-th's arguments. */
  async nth (name: string, n = 1, ms = WAIT): Promise<unknown[]> {
    await withTimeout(new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.count(name) >= n) resolve()
        else this.waiters.push(check)
      }
      check()
    }), ms, `${n} '${name}' event(s)`)
    return this.of(name)[n - 1]
  }
}

/** Every event a WebSocket emits, for an EventLog. */
export const EVENTS = ['message', 'close', 'error', 'ping', 'pong'] as const

/**
 * Bounded waits on state that changes in callbacks (a socket's 'data', 'end', 'close'): the
 * owner calls `wake()` after each change, and every pending `waitFor` re-checks its condition.
 */
export class Wakeups {
  private readonly waiters = new Set<() => void>()

  /**
   * Resolves with the first non-null result of `check`, tried now and after every `wake()`;
   * rejects if `check` throws, or after `ms` (default WAIT) with `label` in the message.
   */
  async waitFor<T> (check: () => T | null, ms = WAIT, label = 'a condition'): Promise<T> {
    const first = check()
    if (first !== null) return first
    let waiter: (() => void) | undefined
    try {
      return await withTimeout(new Promise<T>((resolve, reject) => {
        waiter = () => {
          try {
            const value = check()
            if (value !== null) resolve(value)
          } catch (error) {
            reject(error)
          }
        }
        this.waiters.add(waiter)
      }), ms, label)
    } finally {
      if (waiter !== undefined) this.waiters.delete(waiter)
    }
  }

  /** Re-checks every pending wait. */
  wake (): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}
