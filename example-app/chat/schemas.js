// The wire protocol and the HTTP bodies, as TypeBox schemas: Fastify's validator and serializer
// compilers use them at run time, and the TypeBox type provider turns them into the types the
// handlers see (no hand-written interfaces to keep in step).
import { Type } from 'typebox'

/** What the browser sends on the chat socket: `{ "type": "say", "text": "…" }`, 1–2000 characters. */
export const ClientMessage = Type.Object({
  type: Type.Literal('say'),
  text: Type.String({ minLength: 1, maxLength: 2000 })
}, { additionalProperties: false })

/** A chat line: who said what, when (ISO 8601, the server's clock). */
export const Said = Type.Object({
  type: Type.Literal('said'),
  from: Type.String(),
  text: Type.String(),
  at: Type.String()
})

/** Someone's connection to the room opened (`joined`) or closed (`left`). */
export const Presence = Type.Object({
  type: Type.Union([Type.Literal('joined'), Type.Literal('left')]),
  name: Type.String(),
  at: Type.String()
})

/** Everything the server sends on the chat socket. */
export const ServerMessage = Type.Union([Said, Presence])

/** Rooms are short lowercase slugs, so they fit in a URL and a topic name as they are. */
export const ROOM_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$'

/** `/chat/:room` */
export const RoomParams = Type.Object({ room: Type.String({ pattern: ROOM_PATTERN }) })

/** `POST /session`: the name to chat under: not blank, no control characters. */
export const SessionBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 40, pattern: '^(?=.*\\S)[^\\u0000-\\u001f\\u007f]+$' })
}, { additionalProperties: false })

/** `GET /session`, `POST /session`: who the cookie says you are. */
export const Session = Type.Object({ name: Type.String() })

/** A refusal, in Fastify's own error shape. */
export const HttpError = Type.Object({ statusCode: Type.Number(), error: Type.String(), message: Type.String() })
