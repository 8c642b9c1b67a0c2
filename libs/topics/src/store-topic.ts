import { MAX_TOPIC_LENGTH, NAME_CHARS, SYSTEM_TOPICS, hasSystemTopicPrefixIgnoringCase } from '@apogee/message';
import { fitRocketName } from './escape.js';
import { validateMqttTopicName } from './validate.js';

/*
 * Where an MQTT PUBLISH is stored (rocketmq-mqtt stores `a/b/c` once, in RocketMQ topic `a`):
 *
 *   first level of the MQTT topic                       stored under
 *   --------------------------------------------------  ------------------------------------------
 *   a RocketMQ topic name: [%|a-zA-Z0-9_-]{1,127}, not   the first level itself
 *   starting with '%' (%RETRY% %DLQ% %LMQ% …), 'MQTT_',   (`sensors/t1` → `sensors`)
 *   'AMQP_' or rmq_sys_ / RMQ_SYS_ (any case), and not a
 *   system topic (TBW102, SCHEDULE_TOPIC_XXXX, …)
 *   anything else, the empty level and `$…` included     `MQTT_` + escapeRocketName(level)
 *                                                        (`$SYS/x` → `MQTT__24SYS`, `/x` → `MQTT_`,
 *                                                        `a.b/x` → `MQTT_a_2Eb`, `TBW102` → `MQTT_TBW102`)
 *   … when that exceeds 127 characters                   `MQTT_` + escape prefix + `_H` + 32 hex
 *                                                        of SHA-256(level), exactly 127 characters
 *
 * Names starting with `MQTT_` are escaped even when valid, so the two rows never meet: the map
 * is injective (escapeRocketName is) and depends on nothing but the level (deterministic across
 * restarts). Names starting with `AMQP_` are escaped too (`AMQP_bob|inbox/x` →
 * `MQTT_AMQP_5Fbob_7Cinbox`): that prefix is the AMQP endpoint's namespace (queue `bob/inbox` is
 * stored as `AMQP_bob|inbox`), which an MQTT publish must not write into.
 */

/** Prefix of the AMQP endpoint's own store topics and groups (libs/amqp address.ts). */
export const AMQP_NAMESPACE_PREFIX = 'AMQP_';

/** Prefix of every escaped store topic. */
export const ESCAPED_STORE_TOPIC_PREFIX = 'MQTT_';

/**
 * The RocketMQ topic an MQTT PUBLISH to `mqttTopic` is stored under (table above). Throws
 * InvalidTopicError unless `mqttTopic` is a valid topic name.
 */
export function storeTopicOf(mqttTopic: string): string {
  validateMqttTopicName(mqttTopic);
  const slash = mqttTopic.indexOf('/');
  return storeTopicOfFirstLevel(slash < 0 ? mqttTopic : mqttTopic.slice(0, slash));
}

/** storeTopicOf for a topic's first level alone (any string of valid Unicode without `/`). */
export function storeTopicOfFirstLevel(level: string): string {
  return isPlainStoreTopic(level) ? level : fitRocketName(ESCAPED_STORE_TOPIC_PREFIX, level, MAX_TOPIC_LENGTH);
}

/** Whether a first level is used unchanged as the store topic. */
function isPlainStoreTopic(level: string): boolean {
  return (
    level.length > 0 &&
    level.length <= MAX_TOPIC_LENGTH &&
    NAME_CHARS.test(level) &&
    level.charCodeAt(0) !== 0x25 &&
    !level.startsWith(ESCAPED_STORE_TOPIC_PREFIX) &&
    !level.startsWith(AMQP_NAMESPACE_PREFIX) &&
    !hasSystemTopicPrefixIgnoringCase(level) &&
    !SYSTEM_TOPICS.has(level)
  );
}
