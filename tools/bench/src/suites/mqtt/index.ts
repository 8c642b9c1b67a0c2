/**
 * The `mqtt` suite: Apogee's MQTT endpoint (apps/server, ASYNC_FLUSH) against plain aedes 1.2
 * (in-memory persistence) and mosquitto, side by side in one run, each broker in its own process
 * and the mqtt.js load generator in another: throughput (QoS 0/1 one-to-one, fan-out, 10,000
 * topics), publish → deliver latency, and memory per connection and per subscription.
 */
import type { Suite } from '../../suite.js';
import { latency } from './latency.js';
import { memory } from './memory.js';
import { fanout, qos0, qos1, topics10k } from './throughput.js';

const suite: Suite = {
  name: 'mqtt',
  description: 'MQTT vs plain aedes and mosquitto: QoS 0/1 throughput, fan-out, 10k topics, latency, memory',
  scenarios: [qos0, qos1, fanout, topics10k, latency, memory],
};

export default suite;
