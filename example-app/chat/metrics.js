// GET /metrics: Prometheus text, from the plugin's two observability surfaces.
//
// - Events (opened, closed, messages, refusals, protocol errors, backpressure) come from the
//   `node:diagnostics_channel` channels the plugin publishes: this is the documented way, it
//   needs no wrapping of sockets or handlers, and costs nothing when nobody subscribes.
// - Levels (open connections per route, topics, the adapter's state) are read from
//   `app.websocketServer.stats()` when Prometheus scrapes.
//
// Channels are process-wide: this counts every app in the process (here, one).
import diagnosticsChannel from 'node:diagnostics_channel'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { diagnosticsChannels } from 'fastify-websocket-native'

/** @typedef {import('fastify-websocket-native').WebSocket} WebSocket */

/**
 * Adds `GET /metrics` to `app` and subscribes to the plugin's channels until the app closes.
 *
 * @param {import('fastify').FastifyInstance} app
 * @returns {Registry} the registry (add your own metrics to it)
 */
export function registerMetrics (app) {
  const registry = new Registry()
  const registers = [registry]

  // The route of each open socket, so message counts can be labelled with it.
  /** @type {WeakMap<WebSocket, string>} */
  const routes = new WeakMap()
  /** @param {WebSocket} socket */
  const routeOf = (socket) => routes.get(socket) ?? 'none'

  const opened = new Counter({ name: 'websocket_connections_opened_total', help: 'WebSocket connections opened', labelNames: ['route'], registers })
  const closed = new Counter({ name: 'websocket_connections_closed_total', help: 'WebSocket connections closed, by close code and by who closed first (server, client, abnormal)', labelNames: ['route', 'code', 'initiator'], registers })
  const duration = new Histogram({ name: 'websocket_connection_duration_seconds', help: 'How long WebSocket connections stayed open', labelNames: ['route'], buckets: [1, 10, 60, 600, 3600, 86400], registers })
  const messagesIn = new Counter({ name: 'websocket_messages_received_total', help: 'Data messages received', labelNames: ['route'], registers })
  const bytesIn = new Counter({ name: 'websocket_received_bytes_total', help: 'Payload bytes of the data messages received (decompressed)', labelNames: ['route'], registers })
  const messagesOut = new Counter({ name: 'websocket_messages_sent_total', help: 'Data messages sent (a publish counts once per receiving socket)', labelNames: ['route'], registers })
  const bytesOut = new Counter({ name: 'websocket_sent_bytes_total', help: 'Payload bytes of the data messages sent', labelNames: ['route'], registers })
  const refused = new Counter({ name: 'websocket_handshakes_refused_total', help: 'Upgrade requests answered with an HTTP error instead of 101, by status', labelNames: ['status'], registers })
  const protocolErrors = new Counter({ name: 'websocket_protocol_errors_total', help: 'Connections failed because the peer broke the protocol, by error code', labelNames: ['code'], registers })
  const backpressure = new Counter({ name: 'websocket_backpressure_total', help: 'Sends that hit maxBufferedAmount, by what the policy did', labelNames: ['policy'], registers })

  /** @type {Record<keyof typeof diagnosticsChannels, (message: any) => void>} */
  const listeners = {
    /** @param {import('fastify-websocket-native').ConnectionOpenedMessage} message */
    connectionOpened ({ socket, route = 'none' }) {
      routes.set(socket, route)
      opened.inc({ route })
    },
    /** @param {import('fastify-websocket-native').ConnectionClosedMessage} message */
    connectionClosed ({ route = 'none', code, initiator, durationMs }) {
      closed.inc({ route, code: String(code), initiator })
      duration.observe({ route }, durationMs / 1000)
    },
    /** @param {import('fastify-websocket-native').MessageTrafficMessage} message */
    messageReceived ({ socket, size }) {
      const route = routeOf(socket)
      messagesIn.inc({ route })
      bytesIn.inc({ route }, size)
    },
    /** @param {import('fastify-websocket-native').MessageTrafficMessage} message */
    messageSent ({ socket, size }) {
      const route = routeOf(socket)
      messagesOut.inc({ route })
      bytesOut.inc({ route }, size)
    },
    /** @param {import('fastify-websocket-native').HandshakeRefusedMessage} message */
    handshakeRefused ({ status }) { refused.inc({ status: String(status) }) },
    /** @param {import('fastify-websocket-native').ProtocolErrorMessage} message */
    protocolError ({ code }) { protocolErrors.inc({ code }) },
    /** @param {import('fastify-websocket-native').BackpressureMessage} message */
    backpressure ({ policy }) { backpressure.inc({ policy }) }
  }
  for (const [key, listener] of Object.entries(listeners)) {
    diagnosticsChannel.subscribe(diagnosticsChannels[/** @type {keyof typeof diagnosticsChannels} */ (key)].name, listener)
  }
  app.addHook('onClose', async () => {
    for (const [key, listener] of Object.entries(listeners)) {
      diagnosticsChannel.unsubscribe(diagnosticsChannels[/** @type {keyof typeof diagnosticsChannels} */ (key)].name, listener)
    }
  })

  // Levels, read from stats() at scrape time.
  new Gauge({
    name: 'websocket_open_connections',
    help: 'WebSocket connections open now (closing ones included), by route',
    labelNames: ['route'],
    registers,
    collect () {
      this.reset()
      for (const [route, count] of Object.entries(app.websocketServer.stats().connections.byRoute)) this.set({ route }, count)
    }
  })
  new Gauge({
    name: 'websocket_topics',
    help: 'Topics with at least one subscriber on this instance',
    registers,
    collect () { this.set(app.websocketServer.stats().topics) }
  })
  new Gauge({
    name: 'websocket_adapter_up',
    help: 'Whether the topic adapter (memory, or Redis with REDIS_URL) is ready: 1, or 0 while it is connecting or down',
    labelNames: ['adapter', 'state'],
    registers,
    collect () {
      const { adapter, state } = app.websocketServer.stats().adapter
      this.reset()
      this.set({ adapter, state }, state === 'ready' ? 1 : 0)
    }
  })

  app.get('/metrics', async (_request, reply) => {
    const text = await registry.metrics()
    return await reply.type(registry.contentType).send(text)
  })
  return registry
}
