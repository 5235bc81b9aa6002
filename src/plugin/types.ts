import type { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type {
  ContextConfigDefault,
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  FastifySchema,
  FastifyTypeProvider,
  FastifyTypeProviderDefault,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
  RawServerDefault,
  RouteGenericInterface
} from 'fastify'
import type { MessageArgs, PublishOptions, RawMessageArgs, WebSocket, WebSocketData } from '../connection/index.js'
import type { WebSocketRouteOptions } from './options.js'
import type { InjectWSHooks, InjectWSOptions } from './inject-ws.js'
import type { WebSocketServerStats } from './server-stats.js'

/** Events of `app.websocketServer`, as `ws`'s WebSocketServer has them. */
export interface WebSocketServerEvents {
  /**
   * A socket opened, before its route handler runs: the socket and the raw upgrade request
   * (`ws` and @fastify/websocket give the same pair).
   */
  connection: [socket: WebSocket, request: IncomingMessage]
  /** After `close()`: the last socket has closed. */
  close: []
}

/**
 * What `app.websocketServer` exposes: this plugin's controls, and the part of `ws`'s
 * WebSocketServer that @fastify/websocket code uses (`clients`, `on('connection')`, `close()`).
 */
export interface WebSocketServerView extends EventEmitter<WebSocketServerEvents> {
  /** Every live socket across all routes; a socket leaves when its connection has closed. */
  readonly clients: Set<WebSocket>
  /** True once `drain()`, `close()` or `app.close()` started: new upgrades get 503. */
  readonly draining: boolean
  /**
   * For rolling deploys: refuse new upgrades with 503 from now on and resolve when every
   * existing connection has closed on its own (nothing is closed for you).
   */
  drain: () => Promise<void>
  /** Same as `app.publish`. */
  publish: (topic: string, data: WebSocketData, options?: PublishOptions) => number
  /**
   * `ws` 8's `close()` for a server without its own HTTP server: new upgrades get 503 from now
   * on, open sockets are left alone (close them yourself, e.g. in a custom `preClose`), and
   * 'close' is emitted, and `callback` called, once the last one has closed. On a server
   * that already closed, `callback` gets an error, as in `ws`.
   */
  close: (callback?: (error?: Error) => void) => void
  /**
   * A snapshot of this instance's connections and traffic: open connections per route,
   * messages and bytes each way, closes by code, refused upgrades by status, the adapter's state.
   */
  stats: () => WebSocketServerStats
}

/**
 * A websocket route handler: the socket, and the Fastify request that opened it (params,
 * query, headers, anything hooks decorated). May be async; events are held until it is ready.
 */
export type WebSocketHandler<
  RawServer extends RawServerBase = RawServerDefault,
  RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
  ContextConfig = ContextConfigDefault,
  SchemaCompiler extends FastifySchema = FastifySchema,
  TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  Logger extends FastifyBaseLogger = FastifyBaseLogger,
  Message extends MessageArgs = RawMessageArgs,
  Outgoing = unknown
> = (
  this: FastifyInstance<RawServer>,
  socket: WebSocket<Message, Outgoing>,
  request: FastifyRequest<RouteGeneric, RawServer, RawRequest, SchemaCompiler, TypeProvider, ContextConfig, Logger>
) => unknown

/** What a type provider makes of a schema for validation (Fastify's own rule, which it does not export). */
type CallValidatorTypeProvider<TypeProvider extends FastifyTypeProvider, Schema> = (TypeProvider & { schema: Schema })['validator']
/** ... and for serialisation. */
type CallSerializerTypeProvider<TypeProvider extends FastifyTypeProvider, Schema> = (TypeProvider & { schema: Schema })['serializer']

/**
 * The 'message' arguments of a route with `messageSchema` (through the app's type provider:
 * TypeBox, json-schema-to-ts...): the validated value, and Buffers for binary messages when
 * `allowBinaryMessages` is true; raw `[Buffer, boolean]` without a schema.
 */
export type TypedMessageArgs<TypeProvider extends FastifyTypeProvider, MessageSchema, AllowBinary extends boolean> =
  [MessageSchema] extends [undefined]
    ? RawMessageArgs
    : AllowBinary extends true
      ? [data: CallValidatorTypeProvider<TypeProvider, MessageSchema>, isBinary: false] | [data: Buffer, isBinary: true]
      : [data: CallValidatorTypeProvider<TypeProvider, MessageSchema>, isBinary: false]

/** What `sendJSON` accepts on a route with `sendSchema` (through the type provider); else anything. */
export type TypedOutgoing<TypeProvider extends FastifyTypeProvider, SendSchema> =
  [SendSchema] extends [undefined] ? unknown : CallSerializerTypeProvider<TypeProvider, SendSchema>

/** Route options for typed messages (next to `websocket`, like `schema`). */
export interface TypedMessageRouteOptions<MessageSchema = undefined, SendSchema = undefined, AllowBinary extends boolean = false> {
  /**
   * JSON Schema of what clients send: each text message is parsed as JSON and validated by the
   * app's validator compiler (its Ajv options and plugins apply), compiled once per route, and
   * 'message' listeners get the value, typed through the app's type provider. A message that
   * is not JSON or does not match closes the connection with 1007 and a reason naming the
   * failing path (see `onInvalidMessage`); a binary message closes it with 1003 (see
   * `allowBinaryMessages`).
   */
  messageSchema?: MessageSchema
  /** JSON Schema of what `socket.sendJSON()` sends: serialised by the app's serializer compiler. */
  sendSchema?: SendSchema
  /** Let binary messages through (as Buffers, `isBinary` true) on a `messageSchema` route. @default false */
  allowBinaryMessages?: AllowBinary
  /**
   * What an invalid message does: `'close'` (1007, or 1003 for binary) or `'event'` (an
   * 'invalid' event, the connection stays open). @default 'close'
   */
  onInvalidMessage?: 'close' | 'event'
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The plugin's view of its connections (`clients`). */
    websocketServer: WebSocketServerView
    /**
     * Opens a WebSocket to `path` in memory, through the real routing and hooks, with no port.
     * Resolves once upgraded; rejects with a WebSocketHandshakeError (statusCode, headers, body).
     */
    injectWS: (path?: string, options?: InjectWSOptions, hooks?: InjectWSHooks) => Promise<WebSocket>
    /**
     * Sends `data` to every socket subscribed to `topic` (`socket.subscribe(topic)`), encoded
     * once. `options.except` skips a socket (the sender); `options.binary` forces the type.
     * Returns how many sockets it was written to.
     */
    publish: (topic: string, data: WebSocketData, options?: PublishOptions) => number
  }

  interface FastifyRequest {
    /** True when this request is a WebSocket upgrade. */
    readonly ws: boolean
  }

  interface RouteShorthandOptions<
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
    ContextConfig = ContextConfigDefault,
    SchemaCompiler extends FastifySchema = FastifySchema,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
    Logger extends FastifyBaseLogger = FastifyBaseLogger
  > {
    /** Make this a websocket route; an object overrides the plugin's connection options. */
    websocket?: boolean | WebSocketRouteOptions
    /** See TypedMessageRouteOptions. */
    messageSchema?: unknown
    /** See TypedMessageRouteOptions. */
    sendSchema?: unknown
    /** See TypedMessageRouteOptions. */
    allowBinaryMessages?: boolean
    /** See TypedMessageRouteOptions. */
    onInvalidMessage?: 'close' | 'event'
    /**
     * With `app.route`: the handler for upgrade requests, while `handler` serves plain HTTP.
     */
    wsHandler?: WebSocketHandler<RawServer, RawRequest, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>
  }

  interface RouteShorthandMethod<
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
    Logger extends FastifyBaseLogger = FastifyBaseLogger
  > {
    // With `websocket` set, the handler gets (socket, request).
    <RouteGeneric extends RouteGenericInterface = RouteGenericInterface, ContextConfig = ContextConfigDefault,
      const SchemaCompiler extends FastifySchema = FastifySchema, const MessageSchema = undefined, const SendSchema = undefined,
      const AllowBinary extends boolean = false>(
      path: string,
      opts: RouteShorthandOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger> &
      { websocket: true | WebSocketRouteOptions } & TypedMessageRouteOptions<MessageSchema, SendSchema, AllowBinary>,
      handler: WebSocketHandler<RawServer, RawRequest, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger,
        TypedMessageArgs<TypeProvider, MessageSchema, AllowBinary>, TypedOutgoing<TypeProvider, SendSchema>>
    ): FastifyInstance<RawServer, RawRequest, RawReply, Logger, TypeProvider>
  }
}
