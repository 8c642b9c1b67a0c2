export * from './broker.js';
export * from './config.js';
export * from './errors.js';
export * from './logger.js';
export * from './metrics.js';
export * from './metrics/labelled-counters.js';
export * from './metrics/group-lag.js';
export type { ClientChannel } from './client/client-channel.js';
export type {
  EndTransactionOutcome,
  EndTransactionRequest,
  OpenTransaction,
  TransactionCheck,
  TransactionResolution,
} from './transaction/transaction-types.js';
export * from './client/consumer-registry.js';
export * from './client/producer-registry.js';
export * from './client/queue-locks.js';
export * from './filter/tag-filter.js';
export * from './group/group-manager.js';
export * from './pull/pull-types.js';
export * from './send/send-types.js';
export type { CopiesOutcome, ReplicationGate } from './send/replication-gate.js';
export type { UnconfirmedSend } from './send/send-service.js';
export type { SendBackRequest, SendBackResult } from './send/send-back-service.js';
export { TopicManager, checkTopicName, topicConfigOf, MAX_QUEUE_NUMS, type DataVersion } from './topic/topic-manager.js';
export { topicQueueStats, type QueueStats as TopicQueueStats } from './topic/queue-stats.js';
export { parseDelayLevels } from './delay/delay-levels.js';
export * from './auth/auth-config.js';
export * from './auth/authorizer.js';
export { hashPassword, verifyPassword, isPasswordHash } from './auth/password-hash.js';
export { patternMatches, patternCovers, patternOverlaps, expandPattern } from './auth/topic-pattern.js';
export { checkSettings } from './settings.js';
export { SerialPass } from './serial-pass.js';
export { listenOn } from './listen.js';
export { ConfirmBatches } from './send/confirm-batches.js';
export type { Engine, TopicAdmin, GroupAdmin, ConsumerDirectory, LiveDelivery, TopicFilterRegistry, DeliveryTracer } from './engine.js';
export { BrokerTracer, type DeliveryEvent, type TraceProtocol } from './trace/broker-tracer.js';
export { TRACE_DEFAULTS, type TraceConfig } from './trace/trace-config.js';
export * from './engine-types.js';
export { LiveFeed, type AppendedMessage, type QueueReader } from './live/live-feed.js';
export type { ArrivalSource } from './live/arrival-source.js';
export { TopicFilters, FILTER_HOLDERS_NAMESPACE, type DurableHolder } from './topic-space/topic-filters.js';
export { MQTT_DEFAULT_LIMITS } from './topic-space/limits.js';
export { GroupReader, type GroupReaderOptions, type GroupConsumer, type Entry, type Outcome, type ReadMessage } from './group/group-reader.js';
export { resendProperties } from './send/resend.js';
export { CommitSoon, COMMIT_INTERVAL_MS } from './commit-soon.js';
export { compileSql92, sql92MessageFilter, Sql92SyntaxError, SQL92_LIMITS, type Sql92Filter, type PropertyLookup } from './filter/sql92/index.js';
