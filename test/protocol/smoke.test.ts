import t from 'tap'
import { computeAcceptKey } from '../../src/protocol/index.js'

t.test('RFC 6455 §1.3 example accept key', async (t) => {
  t.equal(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
})
