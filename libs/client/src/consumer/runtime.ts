import type { ClientInstance } from '../client/instance.js';
import type { SendCore } from '../producer/send-core.js';
import type { ConsumeFromWhere, MessageModel } from '../protocol/bodies.js';
import type { ConsumeFunction } from './listener.js';
import type { OffsetStore } from './offset-store.js';
import type { Subscription } from './subscription.js';

/** PushConsumer options after defaults. */
export interface ResolvedPushOptions {
  messageModel: MessageModel;
  consumeFromWhere: ConsumeFromWhere;
  consumeTimestamp: number;
  maxReconsumeTimes: number;
  pullBatchSize: number;
  consumeBatchSize: number;
  consumeConcurrency: number;
  suspendMs: number;
  pullErrorBackoffMs: number;
  pullThresholdForQueue: number;
  orderlyRetryPauseMs: number;
  retryLocallyMs: number;
}

/** What the consumer's parts (pull loop, consume services, rebalance) share. */
export interface ConsumerRuntime {
  readonly inst: ClientInstance;
  readonly group: string;
  readonly opts: ResolvedPushOptions;
  readonly offsets: OffsetStore;
  /** Inner producer for the send-back fallback. */
  readonly sender: SendCore;
  readonly subscriptions: ReadonlyMap<string, Subscription>;
  readonly consume: ConsumeFunction;
  running(): boolean;
  reportError(err: unknown): void;
}
