/**
 * Typed messages, seen from the connection: a codec the plugin builds for a route with a
 * `messageSchema` (JSON parsed, then checked by the app's own validator) and `sendSchema`
 * (`sendJSON` serialised by the app's own serializer). The connection knows nothing of
 * Fastify or schemas: it asks the codec, and acts on the answer.
 */

/** A message that broke the route's contract (not JSON, not matching `messageSchema`, binary where only text is allowed). */
export class InvalidMessageError extends Error {
  readonly code = 'WS_ERR_INVALID_MESSAGE'
  /**
   * The close code the connection is closed with, unless the route handles invalid messages
   * itself: 1007 for data inconsistent with the message type (RFC 6455 §7.4.1), 1003 for a
   * type the route does not accept.
   */
  readonly closeCode: number
  /**
   * Where validation failed (`/text`), when it did; also in the message, which is short and
   * safe to send as a close reason.
   */
  readonly path: string | undefined

  constructor (message: string, closeCode: number, path?: string) {
    super(message)
    this.name = 'InvalidMessageError'
    this.closeCode = closeCode
    this.path = path
  }
}

/** What a route does with a message that breaks its contract. */
export type InvalidMessagePolicy =
  /** Close the connection with the error's close code and reason (the default). */
  | 'close'
  /** Emit `invalid` (error, raw data, isBinary) and keep the connection open. */
  | 'event'

export interface MessageCodec {
  /**
   * The value `message` listeners get for `data`, or an InvalidMessageError (returned, not
   * thrown: invalid input is expected, and exceptions are slow).
   */
  decode: (data: Buffer, isBinary: boolean) => unknown
  /** What to do with an invalid message. */
  onInvalid: InvalidMessagePolicy
  /** Serialises `sendJSON`'s value (the route's compiled `sendSchema`, else JSON.stringify). */
  serialize: (value: unknown) => string
}
