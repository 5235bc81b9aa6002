// The chat app: a static page, a signed-cookie session, one WebSocket route per room, /metrics.
//
//   POST /session { name }   sets the signed `chat_name` cookie; GET /session reads it back
//   GET  /chat/:room         the WebSocket (cookie required: 401 without it; own origin only: 403)
//   GET  /metrics            Prometheus text
//   GET  /                   the page (public/)
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifyStatic from '@fastify/static'
import websocket from 'fastify-websocket-native'
import { ClientMessage, HttpError, RoomParams, ServerMessage, Session, SessionBody } from './schemas.js'
import { isOwnOrigin } from './same-origin.js'
import { registerMetrics } from './metrics.js'

/** The session cookie: the user's name, signed so it cannot be edited in the browser. */
export const SESSION_COOKIE = 'chat_name'

/**
 * The Fastify instance, typed through the TypeBox type provider. (TypeScript would write
 * `Fastify().withTypeProvider<TypeBoxTypeProvider>()`; JavaScript cannot pass a type
 * argument, so the result is cast once here.)
 *
 * @typedef {import('fastify').FastifyInstance<
 *   import('node:http').Server, import('node:http').IncomingMessage, import('node:http').ServerResponse,
 *   import('fastify').FastifyBaseLogger, import('@fastify/type-provider-typebox').TypeBoxTypeProvider
 * >} ChatApp
 */

/** @typedef {import('typebox').Static<typeof ServerMessage>} ServerMessageValue */

/**
 * @typedef {object} ChatAppOptions
 * @property {string} cookieSecret signs the session cookie; every instance of one chat needs the same
 * @property {string[]} [allowedOrigins] exact page origins allowed to open the socket; default: the
 *   page's own origin, computed per request (see same-origin.js)
 * @property {string} [redisUrl] with it, rooms span every instance that uses the same Redis
 * @property {import('fastify').FastifyServerOptions['logger']} [logger] default: info level
 */

/**
 * Builds the chat (not listening yet).
 *
 * @param {ChatAppOptions} options
 * @returns {Promise<ChatApp>}
 */
export async function buildChatApp (options) {
  const app = /** @type {ChatApp} */ (Fastify({
    logger: options.logger ?? { level: 'info' },
    // Fastify's default Ajv strips properties a schema does not allow (removeAdditional: true);
    // here they are refused instead: a chat message with an extra field closes with 1007.
    ajv: { customOptions: { removeAdditional: false } }
  }).withTypeProvider())

  await app.register(fastifyCookie, { secret: options.cookieSecret })
  await app.register(fastifyStatic, { root: fileURLToPath(new URL('public/', import.meta.url)) })
  await app.register(websocket, {
    // Only with REDIS_URL is the Redis adapter (and so ioredis) loaded at all.
    adapter: options.redisUrl === undefined
      ? undefined
      : (await import('fastify-websocket-native/redis')).redisAdapter({ url: options.redisUrl })
  })
  registerMetrics(app)

  app.post('/session', { schema: { body: SessionBody, response: { 200: Session } } }, async (request, reply) => {
    const name = request.body.name.trim()
    reply.setCookie(SESSION_COOKIE, name, { signed: true, httpOnly: true, sameSite: 'strict', secure: 'auto', path: '/' })
    return { name }
  })

  app.get('/session', { schema: { response: { 200: Session, 401: HttpError } } }, async (request, reply) => {
    const name = sessionName(request)
    if (name === undefined) return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'no session: POST /session first' })
    return { name }
  })

  app.get('/chat/:room', {
    websocket: { allowedOrigins: options.allowedOrigins ?? isOwnOrigin },
    schema: { params: RoomParams, response: { 401: HttpError } },
    messageSchema: ClientMessage,
    sendSchema: ServerMessage,
    // Runs before the upgrade: a refusal is a plain HTTP response, and no socket is opened.
    preValidation: async (request, reply) => {
      if (sessionName(request) === undefined) {
        return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'no session: POST /session first' })
      }
    }
  }, (socket, request) => {
    const name = /** @type {string} */ (sessionName(request))
    const topic = `room:${request.params.room}`

    /** @param {ServerMessageValue} message */
    const toRoom = (message) => app.publish(topic, JSON.stringify(message), { except: socket })

    socket.subscribe(topic)
    const joined = /** @type {const} */ ({ type: 'joined', name, at: new Date().toISOString() })
    toRoom(joined)
    socket.sendJSON(joined)

    // `message` is the parsed, validated ClientMessage: anything else closed the socket with
    // 1007 before reaching here.
    socket.on('message', (message) => {
      const said = /** @type {const} */ ({ type: 'said', from: name, text: message.text, at: new Date().toISOString() })
      toRoom(said) // everyone else in the room, on every instance
      socket.sendJSON(said) // and the sender, in the same order as everyone sees it
    })
    socket.on('close', () => {
      toRoom({ type: 'left', name, at: new Date().toISOString() })
    })
  })

  return app
}

/**
 * The name in a valid session cookie, or undefined.
 *
 * @param {import('fastify').FastifyRequest} request
 * @returns {string | undefined}
 */
function sessionName (request) {
  const cookie = request.cookies[SESSION_COOKIE]
  if (cookie === undefined) return undefined
  const { valid, value } = request.unsignCookie(cookie)
  return valid && value !== null && value !== '' ? value : undefined
}
