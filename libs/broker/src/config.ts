import { TRACE_DEFAULTS, type TraceConfig } from './trace/trace-config.js';

/** Broker engine settings. Every field has a production default (RocketMQ 4's where one exists). */
export interface BrokerConfig extends TraceConfig {
  /** Name this broker registers under (RocketMQ brokerName). Default "broker-a". */
  brokerName: string;
  /** Cluster name (RocketMQ brokerClusterName). Default "DefaultCluster". */
  clusterName: string;
  /** Create unknown topics on first send from the default topic TBW102. Default true. */
  autoCreateTopicEnable: boolean;
  /** Create unknown consumer groups on first use. Default true. */
  autoCreateSubscriptionGroup: boolean;
  /** Queues of the default topic TBW102, the ceiling for auto-created topics. Default 8. */
  defaultTopicQueueNums: number;
  /** Hold PULL_NOT_FOUND pulls until a message arrives or the client's suspend time ends. Default true. */
  longPollingEnable: boolean;
  /**
   * SQL92 property filters for consumers (RocketMQ's enablePropertyFilter). On by default here;
   * RocketMQ's default is off. Off: CHECK_CLIENT_CONFIG and SQL92 pulls answer SYSTEM_ERROR.
   */
  enablePropertyFilter: boolean;
  /** Hold time when long polling is off. Default 1,000 ms. */
  shortPollingTimeMills: number;
  /** Most messages one pull returns. Default 32. */
  maxPullMsgNums: number;
  /** Most record bytes one pull returns. Default 256 KiB. */
  maxPullBytes: number;
  /** Delay levels, RocketMQ's messageDelayLevel syntax. */
  messageDelayLevel: string;
  /** Default max reconsume times of a group (retryMaxTimes). Default 16. */
  defaultRetryMaxTimes: number;
  /** A client not heard from for this long is dropped. Default 120 s. */
  channelExpiredTimeoutMs: number;
  /** A queue lock not renewed for this long is free. Default 60 s. */
  rebalanceLockMaxLiveTimeMs: number;
  /** Refuse transactional (half) messages with NO_PERMISSION, as RocketMQ's rejectTransactionMessage. Default false. */
  rejectTransactionMessage: boolean;
  /** A half message is checked back first once it is this old (ms; RocketMQ transactionTimeOut). Default 6,000. */
  transactionTimeOut: number;
  /** Time between check-backs of one half message (ms; RocketMQ 4.9.7's transactionCheckInterval). Default 60,000. */
  transactionCheckInterval: number;
  /** Check-backs before a half message is given up into TRANS_CHECK_MAX_TIME_TOPIC (RocketMQ transactionCheckMax). Default 15. */
  transactionCheckMax: number;
  /**
   * Refuse sends while the oldest store write in flight has waited longer than this (flow control;
   * RocketMQ's waitTimeMillsInSendQueue). Default 1,000 ms.
   */
  maxPutWaitMs: number;
  /** Refuse sends while this many store writes are in flight. Default 20,000. */
  maxPutsInFlight: number;
  /**
   * Timer (RIP-43, arbitrary delay) messages: TIMER_DELIVER_MS / TIMER_DELAY_SEC / TIMER_DELAY_MS.
   * Off: a message carrying them is refused with SYSTEM_ERROR (RocketMQ timerWheelEnable). Default true.
   */
  timerWheelEnable: boolean;
  /** Longest timer delay accepted; beyond it a send is refused with MESSAGE_ILLEGAL. Default 259,200 s (3 days). */
  timerMaxDelaySec: number;
  /**
   * The lateness a timer is built to (see docs/timers.md): any positive integer ms; RocketMQ's
   * values are 100, 200, 500 and 1000. Apogee never fires early, whatever the precision. Default 1,000.
   */
  timerPrecisionMs: number;
}

export const BROKER_DEFAULTS: BrokerConfig = {
  ...TRACE_DEFAULTS,
  brokerName: 'broker-a',
  clusterName: 'DefaultCluster',
  autoCreateTopicEnable: true,
  autoCreateSubscriptionGroup: true,
  defaultTopicQueueNums: 8,
  longPollingEnable: true,
  enablePropertyFilter: true,
  shortPollingTimeMills: 1000,
  maxPullMsgNums: 32,
  maxPullBytes: 256 * 1024,
  messageDelayLevel: '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h',
  defaultRetryMaxTimes: 16,
  channelExpiredTimeoutMs: 120_000,
  rebalanceLockMaxLiveTimeMs: 60_000,
  rejectTransactionMessage: false,
  transactionTimeOut: 6000,
  transactionCheckInterval: 60_000,
  transactionCheckMax: 15,
  maxPutWaitMs: 1000,
  maxPutsInFlight: 20_000,
  timerWheelEnable: true,
  timerMaxDelaySec: 259_200,
  timerPrecisionMs: 1000,
};

export function resolveBrokerConfig(partial: Partial<BrokerConfig> = {}): BrokerConfig {
  const cfg = { ...BROKER_DEFAULTS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (cfg as Record<string, unknown>)[k] = v;
  return cfg;
}
