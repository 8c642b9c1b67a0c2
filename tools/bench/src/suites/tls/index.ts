/**
 * The `tls` suite: what TLS costs, as a ratio of plain measured in the same run — MQTT QoS 1
 * one-to-one (Apogee, and mosquitto beside it) and AMQP at least once one-to-one.
 */
import type { Suite } from '../../suite.js';
import { amqpAtLeastOnceTls } from './amqp-tls.js';
import { mqttQos1Tls } from './mqtt-tls.js';

const suite: Suite = {
  name: 'tls',
  description: 'TLS vs plain in one run: MQTT QoS 1 1-to-1 (Apogee and mosquitto), AMQP at least once 1-to-1',
  scenarios: [mqttQos1Tls, amqpAtLeastOnceTls],
};

export default suite;
