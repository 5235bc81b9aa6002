/**
 * What the adapter tests share: a context whose `deliver` records what arrives and whose
 * logger records what is logged, adapters started on a real redis-server and closed in
 * teardown, and bounded waits. (Not a test file: tap runs only `*.test.ts`.)
 */
import { redisAdapter, type RedisAdapterOptions, type RedisTopicAdapter } from '../../src/adapters/redis/index.js'
import type { TopicAdapter, TopicAdapterContext } from '../../src/adapters/topic-adapter.js'
import type { Teardown } from '../helpers/redis-server.js'

export interface Delivery {
  topic: string
  data: Buffer
  binary: boolean
  /** performance.now() at delivery. */
  at: number
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error'
  obj: Record<string, unknown>
  msg: string | undefined
}

/** A context that records deliveries and log lines; `onLog` runs synchronously inside the adapter's log call. */
export class Recorder {
  readonly received: Delivery[] = []
  readonly logs: LogEntry[] = []
  onLog: ((entry: LogEntry) => void) | undefined
  onDeliver: ((delivery: Delivery) => void) | undefined
  readonly context: TopicAdapterContext

  constructor () {
    const log = (level: LogEntry['level']) => (obj: object, msg?: string): void => {
      const entry = { level, obj: obj as Record<string, unknown>, msg }
      this.logs.push(entry)
      this.onLog?.(entry)
    }
    this.context = {
      deliver: (topic, data, binary) => {
        const delivery = { topic, data, binary, at: performance.now() }
        this.received.push(delivery)
        this.onDeliver?.(delivery)
      },
      log: { info: log('info'), warn: log('warn'), error: log('error') }
    }
  }

  /** The payloads received on `topic`, as strings (text) or hex with a `bin:` prefix (binary). */
  on (topic: string): string[] {
    return this.received.filter((d) => d.topic === topic).map(describe)
  }

  logged (level: LogEntry['level'], pattern: RegExp): LogEntry[] {
    return this.logs.filter((entry) => entry.level === level && pattern.test(entry.msg ?? ''))
  }
}

export function describe (delivery: { data: Buffer, binary: boolean }): string {
  return delivery.binary ? `bin:${delivery.data.toString('hex')}` : delivery.data.toString('utf8')
}

/** An adapter standing for one app instance: started, recorded, closed in teardown. */
export interface Instance<A extends TopicAdapter = RedisTopicAdapter> {
  adapter: A
  recorder: Recorder
}

export async function startInstance (t: Teardown, options: RedisAdapterOptions): Promise<Instance> {
  const adapter = redisAdapter(options)
  const recorder = new Recorder()
  t.teardown(async () => await adapter.close())
  await adapter.start(recorder.context)
  return { adapter, recorder }
}

export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `condition` (sync or async) every few milliseconds until it holds, within `ms`. */
export async function until (condition: () => boolean | Promise<boolean>, ms: number, label: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`)
    await sleep(5)
  }
}

/** Binary payloads that are not valid UTF-8, so a binary/text mix-up would show. */
export function binaryPayload (publisher: number, index: number): Buffer {
  return Buffer.from([0xfe, 0x00, publisher, index >> 8, index & 0xff, 0xff])
}
