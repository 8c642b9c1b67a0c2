/** The admin API's answers as the console reads them (docs/admin-api.openapi.json). */

export interface StatsSample {
  t: number;
  messagesIn: number;
  messagesOut: number;
  mqttIn: number;
  mqttOut: number;
  amqpIn: number;
  amqpOut: number;
  connections: { remoting: number; mqtt: number; amqp: number };
  storeBytes: number;
  diskFreeBytes: number | null;
  fsync: { p50Ms: number; p99Ms: number } | null;
}

export interface Cluster {
  clusterName: string;
  brokers: Array<{
    brokerName: string;
    brokerId: number;
    role: string;
    version: string;
    startedAt: number;
    listeners: Record<string, string | null>;
    store: {
      minCommitLogOffset: number;
      maxCommitLogOffset: number;
      flushedCommitLogOffset: number;
      segments: number;
      disk: { totalBytes: number; freeBytes: number; usedRatio: number } | null;
    };
  }>;
}

export interface TopicSummary {
  topicName: string;
  kind: 'normal' | 'retry' | 'dlq' | 'system';
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  order?: boolean;
  topicFilterType?: string;
  messages: number;
  /** Messages stored and pulled per second over the last 10 s (null: no sampler). */
  rates: { inPerSecond: number; outPerSecond: number } | null;
}

export interface TopicDetail extends Omit<TopicSummary, 'messages'> {
  queues: Array<{ queueId: number; minOffset: number; maxOffset: number; lastStoreTimestamp: number }>;
}

export interface GroupSummary {
  groupName: string;
  online: boolean;
  members: number;
  lag: number;
}

export interface GroupDetail {
  groupName: string;
  online: boolean;
  consumeType?: string;
  messageModel?: string;
  consumeFromWhere?: string;
  members: Array<{ clientId: string; address: string; language: string; version: number; lastHeartbeat: number }>;
  subscriptions: Array<{ topic: string; expressionType: string; expression: string }>;
  lag: number;
  queues: Array<{ topic: string; queueId: number; brokerOffset: number; consumerOffset: number; lag: number }>;
}

export interface OffsetMoves {
  groupName: string;
  queues: Array<{ topic: string; queueId: number; from: number; to: number }>;
}

export interface Message {
  msgId: string;
  uniqKey: string | null;
  topic: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  tags: string | null;
  keys: string[];
  bornTimestamp: number;
  bornHost: string;
  storeTimestamp: number;
  storeHost: string;
  reconsumeTimes: number;
  sysFlag: number;
  bodySize: number;
  properties: Record<string, string>;
  body: { base64: string; text: string | null; json: unknown };
}

export interface MqttSession {
  clientId: string;
  connected: boolean;
  protocolVersion: number | null;
  remoteAddress: string | null;
  username: string | null;
  persistent: boolean;
  expirySeconds: number;
  disconnectedAt: number;
  inflight: number;
  subscriptions: Array<{ filter: string; qos: number; shared: boolean }>;
}

export interface AmqpConnection {
  id: string;
  remoteAddress: string;
  openedAt: number;
  username: string | null;
  containerId: string | null;
  links: Array<{ name: string; role: 'sender' | 'receiver'; address: string | null; credit: number; deliveryCount: number; durable?: boolean }>;
}

/** GET /api/v1/messages/:id/trace (the SDK's MessageTrace). */
export interface MessageTrace {
  msgId: string;
  uniqKey?: string;
  offsetMsgId?: string;
  topic?: string;
  found: boolean;
  events: TraceEvent[];
  skippedRecords: number;
}

export interface TraceEvent {
  kind: string;
  timestamp: number;
  source: 'client' | 'broker' | 'derived';
  group?: string;
  client?: string;
  protocol?: string;
  topic?: string;
  queueId?: number;
  queueOffset?: number;
  brokerName?: string;
  storeHost?: string;
  reconsumeTimes?: number;
  success?: boolean;
  costMs?: number;
  detail?: string;
}

/** Allow/deny patterns (GET /api/v1/acl). */
export interface AclRules {
  allow: string[];
  deny: string[];
}

export interface AclUser {
  username: string;
  admin: boolean;
  password: boolean;
  accessKey: string | null;
  whiteRemoteAddress: string | null;
  publish: AclRules;
  subscribe: AclRules;
  groups: AclRules;
}

/** GET /api/v1/acl. */
export interface AclView {
  editable: boolean;
  readOnlyReason?: string;
  allowAnonymous: boolean;
  anonymous: { publish: AclRules; subscribe: AclRules; groups: AclRules; admin: boolean };
  globalWhiteRemoteAddresses: string[];
  users: AclUser[];
}
