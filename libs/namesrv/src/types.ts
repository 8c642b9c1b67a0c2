/**
 * Shapes of the NameServer's data, named and typed as RocketMQ's Java classes are (route/QueueData,
 * route/BrokerData, route/TopicRouteData, body/ClusterInfo, DataVersion, common/TopicConfig), so
 * route-json.ts can write them field for field.
 */

/** brokerId of a master; slaves have ids ≥ 1. Clients send only to brokerAddrs["0"]. */
export const MASTER_ID = 0;

/** KV namespace whose key is a topic and whose value is its orderTopicConf ("broker:num;…"). */
export const NAMESPACE_ORDER_TOPIC_CONFIG = 'ORDER_TOPIC_CONFIG';

/** A broker silent longer than this (ms) is dropped unless it registered with its own timeout. */
export const DEFAULT_BROKER_TIMEOUT_MILLIS = 120_000;

/** A topic as a broker registers it (TopicConfig inside the REGISTER_BROKER body). */
export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
  order: boolean;
}

/**
 * Version of a broker's topic config table. Equal versions (all three fields) mean "nothing changed"
 * and let the NameServer skip re-reading the broker's topics. Values are Java longs; this model keeps
 * them as JS numbers, exact up to 2^53.
 */
export interface DataVersion {
  stateVersion: number;
  timestamp: number;
  counter: number;
}

/** One broker group's queues of a topic, as clients see them in a route. */
export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

/** A broker group (one brokerName): its cluster and its members by brokerId. */
export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId (decimal string, "0" = master) → "ip:port". */
  brokerAddrs: Record<string, string>;
  enableActingMaster?: boolean;
  zoneName?: string;
}

/** Answer of GET_ROUTEINFO_BY_TOPIC (105). */
export interface TopicRouteData {
  /** "brokerName:queueNums;…" from KV namespace ORDER_TOPIC_CONFIG, when one is configured. */
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  /** brokerAddr → filter server addresses; empty unless brokers registered filter servers. */
  filterServerTable: Record<string, string[]>;
}

/** Answer of GET_BROKER_CLUSTER_INFO (106). */
export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

/** A broker member as the live table knows it; what expiry, channel close and unregister report. */
export interface BrokerMember {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
}
