import type { QoS } from 'mqtt-packet';

/** One subscription of a session: a filter read through its LMQ from the session's own offset. */
export interface SubscriptionOptions {
  qos: QoS;
  /** v5 No Local: not delivered messages this client published. */
  noLocal?: boolean;
  /** v5 Retain As Published: live deliveries keep the publisher's retain flag. */
  retainAsPublished?: boolean;
  /** v5 Subscription Identifier sent with each delivery. */
  subscriptionId?: number;
}

export interface SubscriptionState extends SubscriptionOptions {
  filter: string;
  lmq: string;
  /** Next LMQ offset to read. */
  readOffset: number;
  /** A read of this LMQ is in progress. */
  reading: boolean;
  /** An arrival came while reading: read again afterwards. */
  again: boolean;
}

/**
 * A QoS 1/2 delivery waiting for its PUBACK/PUBREC; `sub` is null for retained and shared deliveries
 * (no LMQ progress of the session's own). Shared deliveries report back through `done`/`lost`.
 */
export interface Inflight {
  sub: SubscriptionState | null;
  lmqOffset: number;
  /** The client has the message (PUBACK, or PUBREC for QoS 2). */
  done?: () => void;
  /** The connection went before the client had it: give it to someone else. */
  lost?: () => void;
}
