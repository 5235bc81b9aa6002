import { Duplex } from 'node:stream'

/**
 * Two in-memory Duplex streams wired back to back, like the two ends of a TCP connection:
 * what one writes, the other reads. `end()` on one side is an EOF on the other; `destroy()`
 * on one side tears the other down too (a reset). Written chunks are copied, because the
 * receiving end may unmask frames in place and the writer's buffer must not change, and are
 * delivered on a later tick, never inside the writer's call, as a real socket would: a reader
 * that answers synchronously must not re-enter the writer's stream.
 *
 * Used by `injectWS` (a connection into Fastify's HTTP server with no port) and by tests.
 */
export function createDuplexPair (): [Duplex, Duplex] {
  const ends: Duplex[] = []
  const make = (index: number): Duplex => new Duplex({
    allowHalfOpen: true,
    read () {},
    write (chunk: Buffer, _encoding, callback) {
      deliver(ends[1 - index], Buffer.from(chunk))
      callback()
    },
    writev (chunks: Array<{ chunk: Buffer }>, callback) {
      deliver(ends[1 - index], Buffer.concat(chunks.map((entry) => entry.chunk)))
      callback()
    },
    final (callback) {
      deliver(ends[1 - index], null)
      callback()
    },
    destroy (error, callback) {
      const peer = ends[1 - index]
      if (!peer.destroyed) process.nextTick(() => peer.destroy())
      callback(error)
    }
  })
  ends.push(make(0), make(1))
  return [ends[0], ends[1]]
}

function deliver (peer: Duplex, chunk: Buffer | null): void {
  process.nextTick(() => {
    if (!peer.destroyed) peer.push(chunk)
  })
}
