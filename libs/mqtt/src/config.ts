/** MQTT gateway settings; every field has a default. */
export interface MqttConfig {
  /** Largest packet accepted from clients and advertised in CONNACK (v5). Default 1 MiB + 64 KiB. */
  maxPacketSize: number;
  /** Longest topic name/filter in bytes. Default 1,024. */
  maxTopicLength: number;
  /** Most levels in a topic name/filter. Default 32. */
  maxTopicLevels: number;
  /** Unacknowledged QoS 1/2 deliveries per session (v5 Receive Maximum toward the client). Default 100. */
  maxInflight: number;
  /** Topic aliases a v5 client may set toward the server (per connection). Default 100. */
  topicAliasMaximum: number;
  /** Most topic aliases the server uses toward a v5 client that allows them (memory per connection). Default 100. */
  outboundTopicAliasMaximum: number;
  /** Receive Maximum advertised to v5 clients for their inbound QoS 1/2. Default 1,000. */
  receiveMaximum: number;
  /** Keep alive used when a client asks for 0 or more than this (seconds, v5 Server Keep Alive). 0 = honour the client. Default 0. */
  maxKeepAliveSeconds: number;
  /**
   * Most messages waiting for one subscription of a session (its LMQ backlog, e.g. while offline);
   * beyond it the oldest are skipped and counted in apogee_mqtt_dropped_total. 0 = no limit
   * (retention still applies). Default 100,000.
   */
  maxQueuedPerSubscription: number;
  /** Messages read from an LMQ per batch. Default 64. */
  readBatch: number;
  /** Queues of each store topic created for MQTT first levels. Default 4. */
  storeTopicQueues: number;
  /** Seconds a CONNECT may take after the TCP connection opens. Default 10. */
  connectTimeoutSeconds: number;
  /**
   * Seconds a connection whose client asked for keep alive 0 (none) may stay silent before it is
   * closed; connections with a keep alive are closed after 1.5 × it. 0 = never. Default 600.
   */
  idleTimeoutSeconds: number;
  /** Most connections open at once on each listener (TCP, WebSocket, TLS …); more are closed at once. 0 = no limit. Default 100,000. */
  maxConnections: number;
  /**
   * Bytes a connection's socket may hold unsent. Past it the connection's QoS 0 deliveries are
   * dropped (counted in apogee_mqtt_dropped_slow_total), QoS 1/2 deliveries wait in their LMQ,
   * and nothing more is read from the client until it takes what was sent. Default 1 MiB.
   */
  maxOutboundBufferBytes: number;
  /** User properties one packet (or a CONNECT's will) may carry; more close the connection (v5: DISCONNECT 0x82). Default 100. */
  maxUserProperties: number;
  /** Topic filters one SUBSCRIBE or UNSUBSCRIBE may carry; more close the connection. Default 1,000. */
  maxFiltersPerPacket: number;
  /** Subscriptions one session may hold (shared ones included); a filter past it is refused (v5: 0x97 Quota exceeded). Default 10,000. */
  maxSubscriptionsPerSession: number;
  /**
   * Bytes of records decoded once for many subscribers (fan-out) kept in memory. Default 16 MiB:
   * a quarter of the default memory budget (`splitMemoryBudget` of @apogee/store); the server sets
   * it from `--memory-budget`.
   */
  recordCacheBytes: number;
  /**
   * On TLS listeners, the user is the common name of the client's verified certificate (mosquitto's
   * use_identity_as_username): that user's rules apply and the CONNECT's username and password are
   * ignored. A TLS client without a verified certificate is then anonymous (refused when anonymous
   * access is off). Plain listeners authenticate as usual. Default false.
   */
  useIdentityAsUsername: boolean;
}

/** Default MqttConfig.recordCacheBytes. */
export const MQTT_RECORD_CACHE_BYTES = 16 * 1024 * 1024;

export const MQTT_DEFAULTS: MqttConfig = {
  maxPacketSize: 1024 * 1024 + 65536,
  maxTopicLength: 1024,
  maxTopicLevels: 32,
  maxInflight: 100,
  topicAliasMaximum: 100,
  outboundTopicAliasMaximum: 100,
  receiveMaximum: 1000,
  maxKeepAliveSeconds: 0,
  maxQueuedPerSubscription: 100_000,
  readBatch: 64,
  storeTopicQueues: 4,
  connectTimeoutSeconds: 10,
  idleTimeoutSeconds: 600,
  maxConnections: 100_000,
  maxOutboundBufferBytes: 1024 * 1024,
  maxUserProperties: 100,
  maxFiltersPerPacket: 1000,
  maxSubscriptionsPerSession: 10_000,
  recordCacheBytes: MQTT_RECORD_CACHE_BYTES,
  useIdentityAsUsername: false,
};

export function resolveMqttConfig(partial: Partial<MqttConfig> = {}): MqttConfig {
  const cfg = { ...MQTT_DEFAULTS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (cfg as Record<string, unknown>)[k] = v;
  return cfg;
}
