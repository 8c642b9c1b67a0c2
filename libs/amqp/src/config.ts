/** AMQP endpoint settings (config file section "amqp"); every field has a default. */
export interface AmqpConfig {
  /** Container id announced in open. Default "apogee". */
  containerId: string;
  /** max-frame-size announced in open; larger incoming frames close the connection. Default 65,536. */
  maxFrameSize: number;
  /** Sessions per connection (channel-max announced in open is this − 1). Default 64. */
  maxSessionsPerConnection: number;
  /** Links per connection; further attaches are answered and detached with resource-limit-exceeded. Default 256. */
  maxLinksPerConnection: number;
  /** idle-time-out announced in open, ms; a peer silent for twice this is disconnected. 0 = none. Default 60,000. */
  idleTimeoutMs: number;
  /** Largest encoded message accepted (link max-message-size); larger ones are rejected. Default 4 MiB. */
  maxMessageSize: number;
  /** Credit granted to each incoming (client → Apogee) link; refilled as messages are stored. Default 500. */
  incomingCredit: number;
  /** Deliveries awaiting settlement per outgoing (Apogee → client) link, whatever the credit. Default 1,000. */
  maxUnsettledPerLink: number;
  /** Messages read from the store per batch. Default 64. */
  readBatch: number;
  /** Prefix that makes an address a topic (MQTT-style name or filter after it). Default "topic/". */
  topicPrefix: string;
  /** Prefix of dead-letter addresses ("$dlq/<address>"). Default "$dlq/". */
  deadLetterPrefix: string;
  /** Longest address in characters. Default 255. */
  maxAddressLength: number;
  /** Create unknown queues and topics on first use; false answers such attaches with amqp:not-found. Default true. */
  autoCreate: boolean;
  /** Queues of a store topic the endpoint creates for a queue address (1 keeps one total order). Default 1. */
  queueAddressQueues: number;
  /** Queues of a store topic created for a topic address (the MQTT gateway uses 4). Default 4. */
  topicAddressQueues: number;
  /** Seconds the SASL and open exchange may take after the TCP connection opens. Default 10. */
  openTimeoutSeconds: number;
  /** Most connections open at once on each listener (plain, TLS); more are closed at once. 0 = no limit. Default 10,000. */
  maxConnections: number;
  /**
   * Bytes a connection's socket may hold unsent. Past it outgoing links deliver nothing more (the
   * messages wait in their queue) and nothing more is read from the peer until it takes what was
   * sent. Default 1 MiB.
   */
  maxOutboundBufferBytes: number;
}

export const AMQP_DEFAULTS: AmqpConfig = {
  containerId: 'apogee',
  maxFrameSize: 65_536,
  maxSessionsPerConnection: 64,
  maxLinksPerConnection: 256,
  idleTimeoutMs: 60_000,
  maxMessageSize: 4 * 1024 * 1024,
  incomingCredit: 500,
  maxUnsettledPerLink: 1000,
  readBatch: 64,
  topicPrefix: 'topic/',
  deadLetterPrefix: '$dlq/',
  maxAddressLength: 255,
  autoCreate: true,
  queueAddressQueues: 1,
  topicAddressQueues: 4,
  openTimeoutSeconds: 10,
  maxConnections: 10_000,
  maxOutboundBufferBytes: 1024 * 1024,
};

/** Defaults overlaid with the given settings; throws on values outside their range. */
export function resolveAmqpConfig(partial: Partial<AmqpConfig> = {}): AmqpConfig {
  const cfg = { ...AMQP_DEFAULTS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (cfg as Record<string, unknown>)[k] = v;
  const intIn = (name: keyof AmqpConfig, min: number, max: number) => {
    const v = cfg[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`amqp.${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  };
  intIn('maxFrameSize', 512, 16 * 1024 * 1024);
  intIn('maxSessionsPerConnection', 1, 65_536);
  intIn('maxLinksPerConnection', 1, 1_000_000);
  intIn('idleTimeoutMs', 0, 2 ** 31 - 1);
  intIn('maxMessageSize', 1024, 64 * 1024 * 1024);
  intIn('incomingCredit', 1, 100_000);
  intIn('maxUnsettledPerLink', 1, 100_000);
  intIn('readBatch', 1, 10_000);
  intIn('maxAddressLength', 1, 1024);
  intIn('queueAddressQueues', 1, 1024);
  intIn('topicAddressQueues', 1, 1024);
  intIn('openTimeoutSeconds', 1, 3600);
  intIn('maxConnections', 0, 10_000_000);
  intIn('maxOutboundBufferBytes', 64 * 1024, 1024 * 1024 * 1024);
  if (cfg.topicPrefix === '' || cfg.deadLetterPrefix === '' || cfg.topicPrefix === cfg.deadLetterPrefix)
    throw new Error('amqp.topicPrefix and amqp.deadLetterPrefix must be distinct and non-empty');
  return cfg;
}
