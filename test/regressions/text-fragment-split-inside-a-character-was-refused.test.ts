/**
 * Regression: `send(bytes, { binary: false, fin: false })` checked each fragment as whole
 * UTF-8, so a text message cut inside a character (as any byte stream may be) was refused,
 * where `ws` sends it. Fragments of one message are now checked as a stream.
 */
import t from 'tap'
import { openPair } from '../helpers/pair.js'

t.test('a text message whose fragments split a character is sent; invalid text still throws', async (t) => {
  const { server, client, clientLog } = openPair(t)
  const euro = Buffer.from('price: 5€', 'utf8')
  const cut = euro.length - 2 // inside the three bytes of €
  t.doesNotThrow(() => server.send(euro.subarray(0, cut), { binary: false, fin: false }))
  t.doesNotThrow(() => server.send(euro.subarray(cut), { binary: false, fin: true }))
  const [data, isBinary] = await clientLog.nth('message') as [Buffer, boolean]
  t.equal(data.toString(), 'price: 5€')
  t.equal(isBinary, false)

  t.throws(() => server.send(Buffer.from([0xff]), { binary: false }), { name: 'TypeError', message: 'data sent as text is not valid UTF-8' })
  t.doesNotThrow(() => server.send(Buffer.from([0xe2, 0x82]), { binary: false, fin: false }), 'an open sequence may end a fragment')
  t.throws(() => server.send(Buffer.from('x'), { binary: false, fin: true }), { name: 'TypeError' }, 'but not the message: the sequence never closed')
  void client
})
