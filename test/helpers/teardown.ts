/**
 * The one thing most helpers need of tap's `t`: a place to register cleanup. Helpers take a
 * `Teardown` instead of tap's whole `Test`, so they work with any test object that has it.
 */

/** What a helper needs of tap's `t`: `t.teardown(fn)`, run when the test ends. */
export interface Teardown {
  teardown: (fn: () => unknown) => void
}
