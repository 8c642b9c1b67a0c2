import { DEFAULT_TRACE_REGION, TRACE_TOPIC } from '@apogee/message';

/** Message trace settings of the broker (docs/trace.md). Part of BrokerConfig. */
export interface TraceConfig {
  /**
   * Create the clients' trace topic (msgTraceTopicName, 1 queue) at start. Default true — RocketMQ's
   * is false, but the topic costs nothing until written, and without it a tracing client's records
   * need auto-creation.
   */
  traceTopicEnable: boolean;
  /** The clients' trace topic (RocketMQ msgTraceTopicName). Default RMQ_SYS_TRACE_TOPIC. */
  msgTraceTopicName: string;
  /** Answered as MSG_REGION in send responses (RocketMQ regionId). Default DefaultRegion. */
  regionId: string;
  /** Answered as TRACE_ON in send responses; false tells clients not to trace (RocketMQ traceOn). Default true. */
  traceOn: boolean;
  /**
   * The broker's own trace records (retried, dead-lettered) in rmq_sys_broker_trace, so a trace is
   * complete without client tracing. Default true (they are rare).
   */
  brokerTraceEnable: boolean;
  /**
   * Also a record per message stored and per delivery (remoting pulls, MQTT, AMQP). Default false:
   * each is a share of an extra store write and key-index entries; without them "stored" and
   * "consumed" are derived at query time from the message and the groups' offsets.
   */
  brokerTraceDeliveries: boolean;
  /** Broker records waiting to be written at most; past it new ones are dropped (and counted). Default 20,000. */
  brokerTraceMaxPending: number;
}

export const TRACE_DEFAULTS: TraceConfig = {
  traceTopicEnable: true,
  msgTraceTopicName: TRACE_TOPIC,
  regionId: DEFAULT_TRACE_REGION,
  traceOn: true,
  brokerTraceEnable: true,
  brokerTraceDeliveries: false,
  brokerTraceMaxPending: 20_000,
};
