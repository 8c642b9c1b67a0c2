import type { FrozenProperties } from '@apogee/message';
import type { Heartbeat, QueueProgress } from './broker.js';
import type { ClientChannel } from './client/client-channel.js';
import type { ConsumerRegistry } from './client/consumer-registry.js';
import type { MessageQueueRef } from './client/queue-locks.js';
import type { BrokerConfig } from './config.js';
import type { Appended, EndpointMetadata, KeyLookupHit, ReadOptions, ReadResult, StoreStats } from './engine-types.js';
import type { GroupManager } from './group/group-manager.js';
import type { LiveFeed } from './live/live-feed.js';
import type { BrokerMetrics } from './metrics.js';
import type { OffsetService } from './offsets/offset-service.js';
import type { PullService } from './pull/pull-service.js';
import type { QueryService } from './query/query-service.js';
import type { SendBackService } from './send/send-back-service.js';
import type { UnconfirmedSend } from './send/send-service.js';
import type { SendBatchRequest, SendRequest, SendResult } from './send/send-types.js';
import type { TopicManager } from './topic/topic-manager.js';
import type { TopicFilters } from './topic-space/topic-filters.js';
import type { BrokerTracer } from './trace/broker-tracer.js';
import type { EndTransactionOutcome, EndTransactionRequest, OpenTransaction } from './transaction/transaction-types.js';

/** Topic configuration as endpoints see it. */
export type TopicAdmin = Pick<
  TopicManager,
  'get' | 'list' | 'createOrUpdate' | 'delete' | 'dataVersion' | 'ensureRetryTopic' | 'ensureDlqTopic' | 'getOrAutoCreate' | 'onChange'
>;
/** Subscription groups as endpoints see them. */
export type GroupAdmin = Pick<GroupManager, 'get' | 'list' | 'getOrCreate' | 'createOrUpdate' | 'delete'>;
/** What endpoints read of the connected consumers. */
export type ConsumerDirectory = Pick<ConsumerRegistry, 'get' | 'groupNames' | 'clientIds' | 'groupsOfTopic' | 'findSubscription'>;
/** The live-delivery path: watch a queue, take its just-appended messages from memory. */
export type LiveDelivery = Pick<LiveFeed, 'watch' | 'unwatch' | 'hasLiveReaders' | 'readers' | 'size'>;
/** The broker's trace records of deliveries: check `deliveries` before building an event (nothing is allocated when off). */
export type DeliveryTracer = Pick<BrokerTracer, 'enabled' | 'deliveries' | 'delivered' | 'pulled'>;
/** The topic space's registry of live and durable topic filters. */
export type TopicFilterRegistry = Pick<
  TopicFilters,
  'add' | 'remove' | 'hold' | 'release' | 'holder' | 'match' | 'lmqsFor' | 'lmq' | 'version' | 'size' | 'limits'
>;

/**
 * The broker engine as every endpoint sees it — the one seam between protocols and the store.
 * Endpoints (remoting, MQTT, AMQP) take an Engine, never a store: the in-process Broker
 * implements it now, and an implementation over the network (a remote broker group) can later,
 * checked by the same contract tests (test-engine-contract.ts).
 *
 * Queues are named by (topic, queueId); an LMQ is the queue (lmqName, 0). Offsets are queue
 * offsets unless they say commit-log.
 */
export interface Engine {
  readonly config: BrokerConfig;
  readonly metrics: BrokerMetrics;
  readonly topics: TopicAdmin;
  readonly groups: GroupAdmin;
  readonly consumers: ConsumerDirectory;
  readonly live: LiveDelivery;
  readonly topicFilters: TopicFilterRegistry;
  readonly metadata: EndpointMetadata;
  /** Long-polling pull of the remoting protocol (RocketMQ PullMessage). */
  readonly puller: Pick<PullService, 'pull'>;
  /** RocketMQ's offset query and commit semantics (remoting). */
  readonly offsets: Pick<OffsetService, 'query' | 'commit'>;
  /** Lookups by key and by commit-log offset (remoting's QueryMessage and ViewMessageById). */
  readonly query: Pick<QueryService, 'byKey' | 'byOffset'>;
  /** A consumer's failed message back to its group's retry topic (or the DLQ): RocketMQ CONSUMER_SEND_MSG_BACK. */
  readonly sendBack: Pick<SendBackService, 'sendBack'>;
  readonly delayLevels: readonly number[];
  /** 'replica' while the commit log is written by replication only: sends are refused. */
  readonly role: 'master' | 'replica';
  /** The broker's own trace records (docs/trace.md). */
  readonly tracer: DeliveryTracer;

  // --- sending ---
  /** Sends one message; resolves once stored under the flush mode. Rejects with BrokerError. */
  send(req: SendRequest): Promise<SendResult>;
  /** Sends a batch into one queue (consecutive offsets). */
  sendBatch(req: SendBatchRequest): Promise<SendResult>;
  /**
   * Sends one message to an existing normal topic and returns once appended, without a promise;
   * null when the topic must be resolved first (use send). Throws BrokerError on refusal.
   * `whenConfirmed` waits for what send would have waited for.
   */
  sendUnconfirmed(req: SendRequest): UnconfirmedSend | null;
  /** Resolves once a message from sendUnconfirmed is stored under the flush mode and, under synchronous replication, held by the in-sync replicas (else rejects with BrokerError). */
  whenConfirmed(appended: Appended): Promise<void>;
  /** Bytes appended but not yet confirmed (endpoints slow their publishers down past a bound). */
  readonly unconfirmedBytes: number;
  /** Properties to send many messages with unchanged (see FrozenProperties). */
  freeze(props: Map<string, string>): FrozenProperties;
  /** Makes everything appended so far durable. */
  flush(): Promise<void>;

  // --- reading ---
  /** Reads up to `max` messages of a queue from `offset`. */
  read(topic: string, queueId: number, offset: number, max: number, opts?: ReadOptions): Promise<ReadResult>;
  minOffset(topic: string, queueId: number): number;
  /** Next offset to be written: readable messages are below it. */
  maxOffset(topic: string, queueId: number): number;
  offsetByTime(topic: string, queueId: number, timestamp: number, boundary?: 'lower' | 'upper'): Promise<number>;
  /** The record at a commit-log offset; null if absent. */
  readRecord(commitLogOffset: number): Promise<Buffer | null>;
  /** Messages of `topic` stored with this UNIQ_KEY within [begin, end] ms. */
  findByUniqueKey(topic: string, uniqKey: string, begin: number, end: number): Promise<KeyLookupHit[]>;
  /** Calls `listener` whenever messages become readable in the queue; returns the unsubscribe function. */
  onArrival(topic: string, queueId: number, listener: (maxOffset: number) => void): () => void;

  // --- consumer offsets ---
  committedOffset(group: string, topic: string, queueId: number): number | undefined;
  commitOffset(group: string, topic: string, queueId: number, offset: number): Promise<void>;
  listOffsets(group: string): Array<{ topic: string; queueId: number; offset: number }>;
  /** Consumer groups subscribed to `topic` now or with offsets on it, sorted (QUERY_TOPIC_CONSUME_BY_WHO). */
  groupsConsuming(topic: string): string[];
  deleteOffsets(group: string, topic?: string): Promise<void>;

  // --- clients (remoting) ---
  heartbeat(channel: ClientChannel, hb: Heartbeat): Promise<void>;
  unregisterClient(channel: ClientChannel, producerGroup?: string, consumerGroup?: string): void;
  channelClosed(channel: ClientChannel): void;
  lockQueues(group: string, clientId: string, queues: MessageQueueRef[]): MessageQueueRef[];
  unlockQueues(group: string, clientId: string, queues: MessageQueueRef[]): void;
  groupProgress(group: string, topic?: string): QueueProgress[];

  // --- transactions ---
  /**
   * END_TRANSACTION: commits (puts the real message once), rolls back or leaves a half message.
   * Rejects with BrokerError when the request does not name a half message of its group.
   */
  endTransaction(req: EndTransactionRequest): Promise<EndTransactionOutcome>;
  /** Half messages waiting for their producer's decision, oldest first (admin). */
  openTransactions(max?: number): Promise<OpenTransaction[]>;

  /** Store figures (admin, metrics). */
  storeStats(): StoreStats;
}
