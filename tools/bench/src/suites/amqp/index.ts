/**
 * The `amqp` suite: Apogee's AMQP 1.0 endpoint (apps/server, ASYNC_FLUSH) against RabbitMQ 3.10's
 * AMQP 1.0 plugin when installed, each broker in its own process and the rhea load generator in
 * another: throughput at least once, at most once and with four competing receivers, and send →
 * deliver latency at 5,000 msgs/s.
 */
import type { Suite } from '../../suite.js';
import { latency } from './latency.js';
import { atLeastOnce, atMostOnce, competing } from './throughput.js';

const suite: Suite = {
  name: 'amqp',
  description: 'AMQP 1.0 vs RabbitMQ 3.10 (rabbitmq_amqp1_0): at-least-once, at-most-once, 4 competing receivers, latency at 5k msgs/s',
  scenarios: [atLeastOnce, atMostOnce, competing, latency],
};

export default suite;
