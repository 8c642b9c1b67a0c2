import { ApogeeError } from '@apogee/message';

/** Why a topic name or topic filter was refused; stable, so endpoints can map it onto reason codes. */
export type InvalidTopicReason =
  | 'not-a-string'
  | 'empty'
  | 'null-character'
  | 'ill-formed-unicode'
  | 'too-long'
  | 'too-many-levels'
  | 'wildcard-in-topic-name'
  | 'misplaced-multi-level-wildcard'
  | 'misplaced-single-level-wildcard'
  | 'invalid-share-name'
  | 'missing-share-filter';

/** Whether the refused string was a PUBLISH topic name or a SUBSCRIBE topic filter. */
export type TopicKind = 'topic name' | 'topic filter';

/**
 * An MQTT topic name or topic filter that breaks MQTT 3.1.1 / 5.0 §4.7 (or §4.8.2 for shared
 * subscriptions) or a configured limit. The endpoint answers it with MQTT 5 reason code 0x90
 * (Topic Name invalid) for a name and 0x8F (Topic Filter invalid) for a filter, or closes an
 * MQTT 3.1.1 connection.
 */
export class InvalidTopicError extends ApogeeError {
  constructor(
    readonly reason: InvalidTopicReason,
    readonly kind: TopicKind,
    detail: string,
  ) {
    super('APG_MQTT_INVALID_TOPIC', `invalid ${kind}: ${detail}`);
  }
}

/** A client identifier that cannot name a session (empty, or not valid Unicode). */
export class InvalidClientIdError extends ApogeeError {
  constructor(detail: string) {
    super('APG_MQTT_INVALID_CLIENT_ID', detail);
  }
}
