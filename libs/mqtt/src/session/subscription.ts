import type { AppendedMessage, QueueReader } from '@apogee/broker';
import type { QoS } from 'mqtt-packet';
import type { SubscriptionOptions, SubscriptionState } from './session-types.js';

/** What a subscription reports its queue's events to (its session). */
export interface SubscriptionOwner {
  /** Messages arrived in the subscription's LMQ up to `max`. */
  subscriptionWoken(sub: Subscription, max: number): void;
  /** A message just appended to the LMQ, from memory; returns whether it was delivered. */
  subscriptionOffered(sub: Subscription, m: AppendedMessage): boolean;
}

/**
 * One subscription of a session, and the reader of its LMQ in the engine's live feed. A class
 * with every field set in the constructor, so all subscriptions share one hidden class, and the
 * reader callbacks are prototype methods rather than closures per subscription (object literals
 * spread from options got a hidden class each: 240 B per subscription).
 */
export class Subscription implements SubscriptionState, QueueReader {
  qos: QoS;
  noLocal: boolean | undefined;
  retainAsPublished: boolean | undefined;
  subscriptionId: number | undefined;
  /** A read of this LMQ is in progress. */
  reading = false;
  /** An arrival came while reading: read again afterwards. */
  again = false;
  /** Registered with the live feed (the session's connection is attached). */
  watching = false;

  constructor(
    private readonly owner: SubscriptionOwner,
    readonly filter: string,
    readonly lmq: string,
    opts: SubscriptionOptions,
    /** Next LMQ offset to read. */
    public readOffset: number,
  ) {
    this.qos = opts.qos;
    this.noLocal = opts.noLocal;
    this.retainAsPublished = opts.retainAsPublished;
    this.subscriptionId = opts.subscriptionId;
  }

  /** New options for the same filter replace the old ones [MQTT-3.8.4-3]. */
  setOptions(opts: SubscriptionOptions): void {
    this.qos = opts.qos;
    this.noLocal = opts.noLocal;
    this.retainAsPublished = opts.retainAsPublished;
    this.subscriptionId = opts.subscriptionId;
  }

  wake(max: number): void {
    this.owner.subscriptionWoken(this, max);
  }

  take(m: AppendedMessage): boolean {
    return this.owner.subscriptionOffered(this, m);
  }
}
