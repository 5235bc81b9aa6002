// permessage-deflate negotiation (RFC 7692 §5, §7.1): the server's choice among offers, the
// client's offer, and the client's checks of the answer.
import t from 'tap'
import fc from 'fast-check'
import {
  DEFAULT_DEFLATE_CONFIG,
  buildPerMessageDeflateOffer,
  deflateDirections,
  negotiatePerMessageDeflate,
  validatePerMessageDeflateResponse,
  type PerMessageDeflateConfig,
  type PerMessageDeflateParams
} from '../../src/protocol/index.js'

const config = (overrides: Partial<PerMessageDeflateConfig> = {}): PerMessageDeflateConfig => ({ ...DEFAULT_DEFLATE_CONFIG, ...overrides })
const params = (overrides: Partial<PerMessageDeflateParams> = {}): PerMessageDeflateParams => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  ...overrides
})

t.test('server: accepted offers and the answer', async (t) => {
  const cases: Array<[string, Partial<PerMessageDeflateConfig>, string, Partial<PerMessageDeflateParams>]> = [
    ['permessage-deflate', {}, 'permessage-deflate', {}],
    ['PerMessage-Deflate', {}, 'permessage-deflate', {}],
    // What browsers send.
    ['permessage-deflate; client_max_window_bits', {}, 'permessage-deflate', {}],
    ['permessage-deflate; client_max_window_bits=10', {}, 'permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 10 }],
    ['permessage-deflate; client_max_window_bits="10"', {}, 'permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 10 }],
    ['permessage-deflate; client_max_window_bits=15', {}, 'permessage-deflate', {}],
    ['permessage-deflate; server_max_window_bits=10', {}, 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=15', {}, 'permessage-deflate; server_max_window_bits=15', {}],
    ['permessage-deflate; server_max_window_bits=8', {}, 'permessage-deflate; server_max_window_bits=8', { serverMaxWindowBits: 8 }],
    ['permessage-deflate; server_no_context_takeover', {}, 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }],
    ['permessage-deflate; client_no_context_takeover', {}, 'permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: true }],
    ['permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8', {},
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 8 }],
    // Our config adds restrictions.
    ['permessage-deflate', { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }],
    ['permessage-deflate', { clientNoContextTakeover: true }, 'permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: true }],
    ['permessage-deflate', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 12 }],
    ['permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=13', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 12 }],
    ['permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 11 }, 'permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: 11 }],
    ['permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 11 }, 'permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 9 }],
    ['permessage-deflate; client_max_window_bits=13', { clientMaxWindowBits: 11 }, 'permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: 11 }],
    // Case of parameter names does not matter.
    ['permessage-deflate; Server_No_Context_Takeover', {}, 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }]
  ]
  for (const [offer, ours, header, expected] of cases) {
    t.same(negotiatePerMessageDeflate(offer, config(ours)), { header, params: params(expected) }, `${offer} with ${JSON.stringify(ours)}`)
  }
})

t.test('server: the first offer it can honour wins; the rest are declined', async (t) => {
  // Malformed and invalid offers first: each is skipped, the next one taken.
  const cases: Array<[string, string]> = [
    ['permessage-deflate; server_max_window_bits=16, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits=9', 'permessage-deflate; client_max_window_bits=9'],
    ['permessage-deflate; server_max_window_bits=010, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; server_max_window_bits=+9, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; server_max_window_bits, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; server_max_window_bits="", permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; client_max_window_bits=0, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; client_max_window_bits=16, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; server_no_context_takeover=1, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; client_no_context_takeover="", permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; unknown, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; client_max_window_bits; client_max_window_bits, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; server_max_window_bits="1 0", permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate x, permessage-deflate', 'permessage-deflate'],
    ['x-webkit-deflate-frame, permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover'],
    ['foo; bar="a,b", permessage-deflate', 'permessage-deflate']
  ]
  for (const [header, answer] of cases) t.equal(negotiatePerMessageDeflate(header)?.header, answer, header)
})

t.test('server: declines without failing', async (t) => {
  const cases: Array<[string | undefined, Partial<PerMessageDeflateConfig>]> = [
    [undefined, {}],
    ['', {}],
    [' , ', {}],
    ['x-webkit-deflate-frame', {}],
    ['permessage-deflate; server_max_window_bits=16', {}],
    ['permessage-deflate; foo=bar', {}],
    ['permessage-deflate; p="unterminated', {}],
    // We want to limit the client's window, but it did not offer client_max_window_bits.
    ['permessage-deflate', { clientMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=10', { clientMaxWindowBits: 14 }]
  ]
  for (const [header, ours] of cases) t.equal(negotiatePerMessageDeflate(header, config(ours)), null, String(header))
  // ...but a later offer that does allow it is taken.
  t.equal(negotiatePerMessageDeflate('permessage-deflate, permessage-deflate; client_max_window_bits', config({ clientMaxWindowBits: 10 }))?.header,
    'permessage-deflate; client_max_window_bits=10')
})

t.test('server: hostile headers cost linear time and are declined', async (t) => {
  const KiB100 = 100 * 1024
  for (const header of [
    ' ,'.repeat(KiB100 / 2),
    'permessage-deflate;'.repeat(KiB100 / 19),
    `permessage-deflate${'; client_max_window_bits'.repeat(KiB100 / 24)}`,
    'permessage-deflate; x, '.repeat(KiB100 / 22)
  ]) {
    t.equal(negotiatePerMessageDeflate(header), null)
    // Best of five after that warm-up: a quadratic parse of 100 KiB would take seconds, a
    // linear one well under a millisecond (much more under coverage on a loaded machine).
    let best = Infinity
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint()
      negotiatePerMessageDeflate(header)
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6)
    }
    t.ok(best < 100, `${header.slice(0, 20)}...: ${best.toFixed(2)} ms`)
  }
})

t.test('client: the offer', async (t) => {
  t.equal(buildPerMessageDeflateOffer(), 'permessage-deflate; client_max_window_bits')
  t.equal(buildPerMessageDeflateOffer(config({ clientMaxWindowBits: 10 })), 'permessage-deflate; client_max_window_bits=10')
  t.equal(buildPerMessageDeflateOffer(config({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 8 })),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8')
})

t.test('client: valid answers', async (t) => {
  const cases: Array<[string | undefined, Partial<PerMessageDeflateConfig>, PerMessageDeflateParams | null]> = [
    [undefined, {}, null],
    ['', {}, null],
    ['permessage-deflate', {}, params()],
    ['permessage-deflate; server_no_context_takeover', {}, params({ serverNoContextTakeover: true })],
    ['permessage-deflate; client_no_context_takeover', {}, params({ clientNoContextTakeover: true })],
    ['permessage-deflate; server_max_window_bits=9', {}, params({ serverMaxWindowBits: 9 })],
    ['permessage-deflate; client_max_window_bits=8', {}, params({ clientMaxWindowBits: 8 })],
    ['permessage-deflate; client_max_window_bits="12"', {}, params({ clientMaxWindowBits: 12 })],
    ['permessage-deflate', { clientNoContextTakeover: true }, params({ clientNoContextTakeover: true })],
    ['permessage-deflate', { clientMaxWindowBits: 11 }, params({ clientMaxWindowBits: 11 })],
    ['permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 11 }, params({ clientMaxWindowBits: 10 })],
    ['permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }, params({ serverNoContextTakeover: true })],
    ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 12 }, params({ serverMaxWindowBits: 12 })],
    ['permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 12 }, params({ serverMaxWindowBits: 10 })]
  ]
  for (const [header, ours, expected] of cases) {
    t.same(validatePerMessageDeflateResponse(header, config(ours)), { ok: true, params: expected }, `${String(header)} with ${JSON.stringify(ours)}`)
  }
})

t.test('client: answers that fail the handshake, with a reason', async (t) => {
  const cases: Array<[string, Partial<PerMessageDeflateConfig>, RegExp]> = [
    ['x-webkit-deflate-frame', {}, /x-webkit-deflate-frame, which was not offered/],
    ['permessage-deflate, permessage-deflate', {}, /2 extensions/],
    ['permessage-deflate, foo', {}, /2 extensions/],
    ['permessage-deflate; foo', {}, /unknown parameter foo/],
    ['permessage-deflate; client_max_window_bits', {}, /client_max_window_bits must be an integer from 8 to 15/],
    ['permessage-deflate; server_max_window_bits=16', {}, /server_max_window_bits must be an integer from 8 to 15/],
    ['permessage-deflate; server_max_window_bits=07', {}, /server_max_window_bits must be/],
    ['permessage-deflate; server_no_context_takeover=yes', {}, /must not have a value/],
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', {}, /more than once/],
    ['permessage-deflate; a b', {}, /malformed Sec-WebSocket-Extensions/],
    ['permessage-deflate', { serverNoContextTakeover: true }, /ignored the requested server_no_context_takeover/],
    ['permessage-deflate', { serverMaxWindowBits: 10 }, /ignored the requested server_max_window_bits/],
    ['permessage-deflate; server_max_window_bits=11', { serverMaxWindowBits: 10 }, /server_max_window_bits=11 exceeds the 10 offered/],
    ['permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 }, /client_max_window_bits=12 exceeds the 10 offered/]
  ]
  for (const [header, ours, reason] of cases) {
    const result = validatePerMessageDeflateResponse(header, config(ours))
    t.equal(result.ok, false, header)
    if (!result.ok) t.match(result.reason, reason, header)
  }
})

t.test('directions', async (t) => {
  const agreed = params({ serverNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 12 })
  t.same(deflateDirections(agreed, 'server'), { sendContextTakeover: false, sendWindowBits: 9, receiveContextTakeover: true, receiveWindowBits: 12 })
  t.same(deflateDirections(agreed, 'client'), { sendContextTakeover: true, sendWindowBits: 12, receiveContextTakeover: false, receiveWindowBits: 9 })
})

t.test('property: any client config against any server config agrees on both sides', async (t) => {
  const bits = fc.integer({ min: 8, max: 15 })
  const arbitraryConfig = fc.record({
    serverNoContextTakeover: fc.boolean(),
    clientNoContextTakeover: fc.boolean(),
    serverMaxWindowBits: bits,
    clientMaxWindowBits: bits
  })
  fc.assert(fc.property(arbitraryConfig, arbitraryConfig, (client, server) => {
    const offer = buildPerMessageDeflateOffer(client)
    const accepted = negotiatePerMessageDeflate(offer, server)
    // Our client always offers client_max_window_bits, so our server can always honour it.
    if (accepted === null) return false
    const verdict = validatePerMessageDeflateResponse(accepted.header, client)
    if (!verdict.ok || verdict.params === null) return false
    const agreed = accepted.params
    // Both sides agree, and every restriction either side asked for holds.
    return JSON.stringify(verdict.params) === JSON.stringify(agreed) &&
      agreed.serverMaxWindowBits <= Math.min(client.serverMaxWindowBits, server.serverMaxWindowBits) &&
      agreed.clientMaxWindowBits <= Math.min(client.clientMaxWindowBits, server.clientMaxWindowBits) &&
      (agreed.serverNoContextTakeover || !(client.serverNoContextTakeover || server.serverNoContextTakeover)) &&
      (agreed.clientNoContextTakeover || !(client.clientNoContextTakeover || server.clientNoContextTakeover))
  }), { seed: 7692, numRuns: 2000 })
  t.pass('2000 random config pairs agree (seed 7692)')
})
