import { Histogram, LATENCY_BUCKETS_SECONDS } from '@apogee/message';
import { GroupConsumptionTable, TopicCountersTable } from './metrics/labelled-counters.js';

/** Why a send was refused; each has a counter so "broker busy" is never unexplained. */
export type RefusalReason = 'FLOW_CONTROL_WAIT' | 'FLOW_CONTROL_IN_FLIGHT' | 'DISK_FULL' | 'WRITE_BACKLOG' | 'WRITE_FAILED' | 'STORE_CLOSED' | 'READ_ONLY';

/** Engine counters, read by the server's metrics endpoint (docs/metrics.md). */
export class BrokerMetrics {
  sendRequests = 0;
  sendMessages = 0;
  sendBytes = 0;
  sendFailures = 0;
  pullRequests = 0;
  pullMessages = 0;
  pullBytes = 0;
  pullHeld = 0;
  pullsWaiting = 0;
  sendBacks = 0;
  deadLettered = 0;
  delayedScheduled = 0;
  delayedDelivered = 0;
  /** Timer messages stored in the timer topic, fired to their real topic, and pending (indexed, not yet fired). */
  timersScheduled = 0;
  timersFired = 0;
  timersPending = 0;
  putsInFlight = 0;
  /** Deliveries taken by caught-up readers straight from a send, without a store read (the live feed). */
  liveDeliveries = 0;
  readonly refusals: Record<RefusalReason, number> = {
    FLOW_CONTROL_WAIT: 0,
    FLOW_CONTROL_IN_FLIGHT: 0,
    DISK_FULL: 0,
    WRITE_BACKLOG: 0,
    WRITE_FAILED: 0,
    STORE_CLOSED: 0,
    READ_ONLY: 0,
  };
  /** Sends stored here that synchronous replication answered short: replicas too slow, or too few in sync. */
  readonly replicationShortfalls = { FLUSH_SLAVE_TIMEOUT: 0, SLAVE_NOT_AVAILABLE: 0 };
  /** Seconds from a confirmed send's (or batch's) arrival at the engine to its store put confirmed under the flush mode. */
  readonly sendLatency = new Histogram(LATENCY_BUCKETS_SECONDS);
  /** Seconds a pull took in the engine, the time a long poll was held waiting for arrivals left out. */
  readonly pullLatency = new Histogram(LATENCY_BUCKETS_SECONDS);
  /** Messages and bytes in, messages out, per topic (bounded, see TopicCountersTable). */
  readonly topics = new TopicCountersTable();
  /** Messages pulled per (consumer group, topic) (bounded). */
  readonly consumed = new GroupConsumptionTable();
}
