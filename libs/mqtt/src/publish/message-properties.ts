/**
 * How an MQTT PUBLISH is kept as a RocketMQ message (the cross-protocol table in docs/mqtt.md):
 * the MQTT topic and QoS ride as properties, so native consumers of the store topic see them and
 * the gateway can rebuild the PUBLISH for subscribers.
 */
export const MqttProperty = {
  TOPIC: 'mqttTopic',
  QOS: 'mqttQos',
  RETAIN: 'mqttRetain',
  CLIENT_ID: 'mqttClientId',
} as const;

/** Tag every MQTT-originated message carries (rocketmq-mqtt uses MQTT_COMMON). */
export const MQTT_TAG = 'MQTT';
