/**
 * The message properties of the topic space (the cross-protocol table in docs/protocol-mapping.md):
 * a message published to a topic such as `a/b/c` — over MQTT, AMQP `topic/…` or remoting with the
 * topic property — is stored once under its first level's store topic, with the full topic, QoS,
 * retain flag and publishing client riding as properties. Native consumers of the store topic see
 * them, and every endpoint rebuilds its own message from them. The names are rocketmq-mqtt's era
 * `mqtt…` names, kept: they are on disk in existing stores.
 */
export const TopicProperty = {
  TOPIC: 'mqttTopic',
  QOS: 'mqttQos',
  RETAIN: 'mqttRetain',
  CLIENT_ID: 'mqttClientId',
} as const;

/** Tag every message published into the topic space carries (rocketmq-mqtt uses MQTT_COMMON). */
export const MQTT_TAG = 'MQTT';
