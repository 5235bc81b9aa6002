import type { FastifyReply, FastifyRequest } from 'fastify'
import { InvalidMessageError, type InvalidMessagePolicy, type MessageCodec } from '../connection/index.js'
import { CloseCode } from '../protocol/index.js'

/** A route's typed-message settings, as the route hook found them. */
export interface TypedMessageRoute {
  /** JSON Schema of what clients send, validated by the app's validator compiler. */
  messageSchema: object | undefined
  /** JSON Schema of what `sendJSON` sends, compiled by the app's serializer compiler. */
  sendSchema: object | undefined
  /** Whether binary messages pass through (as Buffers) on a route with a `messageSchema`. */
  allowBinaryMessages: boolean
  onInvalidMessage: InvalidMessagePolicy
}

/** What Fastify's validator compilers return (Ajv's function, or a `{ value, error }` one). */
type ValidationFunction = ((data: unknown) => unknown) & { errors?: unknown }

/**
 * Builds a route's codec with the app's own compilers, through Fastify's `request` and `reply`
 * (`compileValidationSchema`, `compileSerializationSchema`): the app's Ajv options and plugins
 * and its type provider's compilers apply, exactly as for HTTP bodies and replies. Called on
 * the route's first upgrade; the codec is then shared by every connection of the route, so
 * each schema is compiled once per route.
 */
export function buildMessageCodec (route: TypedMessageRoute, request: FastifyRequest, reply: FastifyReply): MessageCodec {
  const validate = route.messageSchema === undefined ? undefined : request.compileValidationSchema(route.messageSchema as Record<string, unknown>) as ValidationFunction
  const serializer = route.sendSchema === undefined ? undefined : reply.compileSerializationSchema(route.sendSchema as Record<string, unknown>, '200') as (value: unknown) => string
  const { allowBinaryMessages } = route
  return {
    onInvalid: route.onInvalidMessage,
    serialize: serializer ?? JSON.stringify,
    decode (data: Buffer, isBinary: boolean): unknown {
      if (validate === undefined) return data
      if (isBinary) {
        // RFC 6455 §7.4.1: 1003, a type of data this endpoint cannot accept.
        return allowBinaryMessages ? data : new InvalidMessageError('binary messages are not accepted here', CloseCode.UnsupportedData)
      }
      let value: unknown
      try {
        value = JSON.parse(data.toString('utf8'))
      } catch {
        return new InvalidMessageError('invalid message: not JSON', CloseCode.InvalidPayload)
      }
      return check(validate, value)
    }
  }
}

/**
 * Runs a compiled validator the way Fastify does (`false` plus `.errors`, or `{ value, error }`)
 * and turns a failure into a 1007 (RFC 6455 §7.4.1: data inconsistent with the type of the
 * message) whose reason names the failing path and rule, never more.
 */
function check (validate: ValidationFunction, value: unknown): unknown {
  const result = validate(value)
  if (result === true || result === undefined) return value
  if (result === false) return invalid(validate.errors)
  if (typeof result === 'object' && result !== null) {
    const { error, value: coerced } = result as { error?: unknown, value?: unknown }
    if (error !== undefined && error !== null && error !== false) return invalid(error)
    if ('value' in result) return coerced
  }
  return value
}

function invalid (errors: unknown): InvalidMessageError {
  const first = (Array.isArray(errors) ? errors[0] : errors) as { instancePath?: unknown, message?: unknown } | undefined
  const path = typeof first?.instancePath === 'string' && first.instancePath !== '' ? first.instancePath : '/'
  const rule = typeof first?.message === 'string' ? ` ${first.message}` : ''
  return new InvalidMessageError(`invalid message: ${path}${rule}`, CloseCode.InvalidPayload, path)
}
