/**
 * The suite table. A suite is loaded only when it is run, so one whose dependencies are missing
 * does not stop the others. To add one (remoting, mqtt, amqp, …): one line here, one module under
 * suites/ whose default export is a Suite.
 */
import type { Suite } from '../suite.js';

export interface SuiteEntry {
  readonly description: string;
  readonly load: () => Promise<Suite>;
}

export const suites: Readonly<Record<string, SuiteEntry>> = {
  store: {
    description: 'the message store alone: append, group commit, LMQ fan-out, a million LMQs, reads',
    load: async () => (await import('./store/index.js')).default,
  },
  remoting: {
    description: 'the server over RocketMQ remoting: producer throughput vs an echo ceiling, send→push-consumer latency',
    load: async () => (await import('./remoting/index.js')).default,
  },
  mqtt: {
    description: 'MQTT vs plain aedes and mosquitto: QoS 0/1 throughput, fan-out, 10k topics, latency, memory',
    load: async () => (await import('./mqtt/index.js')).default,
  },
  restart: {
    description:
      'SIGKILL under load, then the restart until every port accepts (100,000 LMQs, a large commit log), beside a bare Node process on the same ports',
    load: async () => (await import('./restart/index.js')).default,
  },
  amqp: {
    description: 'AMQP 1.0 vs RabbitMQ 3.10 (rabbitmq_amqp1_0): at-least-once, at-most-once, 4 competing receivers, latency at 5k msgs/s',
    load: async () => (await import('./amqp/index.js')).default,
  },
  timer: {
    description: 'a million pending timer messages: RSS added, schedule rate vs plain sends, lateness at 10,000/s firing vs the precision',
    load: async () => (await import('./timer/index.js')).default,
  },
  ha: {
    description: 'synchronous replication to one replica (2 in-sync copies) vs a single broker in the same run: send throughput, send → ack latency',
    load: async () => (await import('./ha/index.js')).default,
  },
  tls: {
    description: 'TLS vs plain in one run: MQTT QoS 1 1-to-1 (Apogee and mosquitto), AMQP at least once 1-to-1',
    load: async () => (await import('./tls/index.js')).default,
  },
};

export function suiteNames(): string[] {
  return Object.keys(suites);
}
