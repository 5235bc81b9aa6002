/**
 * Regression (issue 9, item 3): reading paused at a fixed 1 MiB write backlog and only 'drain'
 * resumed it, but on a stream whose writableHighWaterMark is above 1 MiB 'drain' never comes:
 * the connection stopped reading forever. The pause is now taken only when the stream says it
 * needs a drain, so the 'drain' that lifts it is sure to come.
 */
import http from 'node:http'
import type net from 'node:net'
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { sleep } from '../helpers/wait.js'
import { OP, buildFrame } from '../helpers/frames.js'
import { RawClient } from '../helpers/raw-client.js'

t.test('a 4 MiB high-water mark: 1.5 MiB of unread replies, then every echo arrives', async (t) => {
  const { port } = await buildApp(t, {
    fastify: { serverFactory: (handler) => http.createServer({ highWaterMark: 4 * 1024 * 1024 }, handler) }
  })
  const { client } = await RawClient.open(port, '/echo')
  t.teardown(() => client.destroy())
  const socket = client.socket as net.Socket
  socket.pause() // read nothing for a while: the replies pile up on the server
  const size = 32 * 1024
  const count = 48 // 1.5 MiB
  for (let i = 0; i < count; i++) client.write(buildFrame({ opcode: OP.BINARY, payload: Buffer.alloc(size, i) }))
  await sleep(300)
  socket.resume()
  for (let i = 0; i < count; i++) {
    const frame = await client.readFrame(5000)
    t.equal(frame.payload.length, size)
    t.equal(frame.payload[0], i, `echo ${i}`)
  }
  // And the connection still reads.
  client.write(buildFrame({ opcode: OP.TEXT, payload: 'still reading' }))
  t.equal((await client.readFrame(5000)).payload.toString(), 'still reading')
})
