/**
 * Returned by `MessageInflater.inflate`, `MessageDeflater.deflate` and
 * `SharedMessageDeflate.deflate` when the result will come later, through the callback.
 *
 * The contract that keeps Zalgo out: a call either returns its result (and never calls the
 * callback), or returns `PENDING` and calls the callback exactly once, always after the call
 * has returned (never synchronously from inside it).
 */
export const PENDING: unique symbol = Symbol('permessage-deflate pending')
export type Pending = typeof PENDING
