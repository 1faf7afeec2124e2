// The public surface of @sallyport/bus.
export type {
  ConsumeOptions,
  QueueConsumer,
  StreamEntry,
  StreamReader,
  StreamReaderOptions,
  Transport,
  Unsubscribe,
  WindowCount,
} from './transport.js';
export {
  decodeInputMessage,
  decodeOpenRequest,
  decodeRecordEvent,
  decodeSessionMessage,
  encodeInputMessage,
  encodeOpenRequest,
  encodeRecordEvent,
  encodeSessionMessage,
  type EndReason,
  type InputMessage,
  type OpenRequest,
  type Participant,
  type RecordEvent,
  type RecordingMode,
  type RecordingRequest,
  type Role,
  type SessionMessage,
} from './messages.js';
export { SessionBus, type SessionBusOptions } from './session-bus.js';
export { RecordingBus, type RecordingBusOptions, type RecordReader } from './recording-bus.js';
export type { BusLogger } from './logger.js';
export {
  createMemoryBackend,
  type MemoryBackend,
  type MemoryBackendOptions,
} from './memory-backend.js';
export { createMemoryTransport, type MemoryTransportOptions } from './memory-transport.js';
export { createRedisTransport, type RedisTransportOptions } from './redis-transport.js';
export {
  openConnection as openRedisConnection,
  quitConnection as quitRedisConnection,
} from './redis-connection.js';
export { RateLimiter, type Limit, type LimitVerdict } from './rate-limiter.js';
