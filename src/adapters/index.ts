/**
 * Topic adapters without dependencies: the interface and the in-process bus. The Redis adapter
 * has its own entry point (`fastify-websocket-native/redis`) so that only apps using it load ioredis.
 */
export type { TopicAdapter, TopicAdapterContext, TopicAdapterLogger, TopicAdapterState, TopicAdapterStats } from './topic-adapter.js'
export { MemoryBus, memoryAdapter, type MemoryAdapterOptions } from './memory-adapter.js'
