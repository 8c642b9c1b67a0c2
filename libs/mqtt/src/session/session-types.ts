import type { QoS } from 'mqtt-packet';

/** One subscription of a session: a filter read through its LMQ from the session's own offset. */
export interface SubscriptionState {
  filter: string;
  lmq: string;
  qos: QoS;
  /** Next LMQ offset to read. */
  readOffset: number;
  /** A read of this LMQ is in progress. */
  reading: boolean;
  /** An arrival came while reading: read again afterwards. */
  again: boolean;
}

/** A QoS 1 delivery waiting for its PUBACK; `sub` is null for retained-message deliveries (no LMQ progress). */
export interface Inflight {
  sub: SubscriptionState | null;
  lmqOffset: number;
}
