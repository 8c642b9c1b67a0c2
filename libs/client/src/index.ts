/**
 * @apogee/client: a typed SDK speaking RocketMQ 4.x remoting (JSON headers) to a NameServer and
 * brokers — Producer, TransactionProducer, PushConsumer, PullConsumer and Admin.
 */
export * from './errors.js';
export * from './logger.js';
export * from './message.js';
export * from './message-queue.js';
export type { ClientOptions, ClientTlsOptions } from './client/options.js';
export { Producer, type ProducerOptions } from './producer/producer.js';
export type { SendOptions, QueueSelectorFn } from './producer/send-core.js';
export {
  TransactionProducer,
  type TransactionProducerOptions,
  type TransactionListener,
  type TransactionSendResult,
  type LocalTransactionState,
} from './producer/transaction-producer.js';
export type { SendResult, SendStatus } from './producer/send-result.js';
export { PushConsumer, type PushConsumerOptions, type PushConsumerEvents } from './consumer/push-consumer.js';
export type { ConsumeStatus, ConsumeContext, ConsumeFunction, ConcurrentListener, OrderlyListener, MessageListener } from './consumer/listener.js';
export { PullConsumer, type PullConsumerOptions, type PullOptions } from './consumer/pull-consumer.js';
export type { PullResult, PullStatus } from './consumer/pull-api.js';
export { MessageSelector } from './consumer/subscription.js';
export { Admin, type AdminOptions } from './admin/admin.js';
export { gatherMessageTrace, type MessageTraceOptions, type TraceLookups } from './trace/gather-trace.js';
export type { MessageTrace, TraceEvent, TraceEventKind, TraceEventSource } from './trace/timeline.js';
export type { TraceOption } from './trace/trace-dispatcher.js';
export {
  LONG_MAX_VALUE,
  type CreateTopicOptions,
  type QueueOffsets,
  type TopicDescription,
  type QueueProgress,
  type QueryOptions,
  type OpenTransaction,
} from './admin/types.js';
export type { ClusterInfo, MessageModel, ConsumeFromWhere } from './protocol/bodies.js';
export type { TopicRoute, QueueData, BrokerData } from './route/topic-route.js';
/** PermName bits, for createTopic's `perm` (the SDK's users need not depend on @apogee/message). */
export { Perm } from '@apogee/message';
