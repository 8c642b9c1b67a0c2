import type { TopicLimits } from '@apogee/topics';

/** Limits of the topic space's names (MQTT's: a topic of at most 1,024 UTF-8 bytes and 32 levels, the MQTT endpoint's defaults). */
export const MQTT_DEFAULT_LIMITS: TopicLimits = { maxTopicLength: 1024, maxTopicLevels: 32 };
