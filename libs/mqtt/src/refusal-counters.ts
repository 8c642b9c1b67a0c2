import { RefusalCounters, type RefusalCounts } from '@apogee/message';
/**
 * Every reason the MQTT endpoint refuses something for, by the operation refused: the label values
 * of `apogee_mqtt_refusals_total{operation,reason}` (docs/metrics.md describes each). The table is
 * the whole vocabulary — counts are never keyed by client-supplied or free text — so the family
 * has exactly one series per entry, all present (at 0) from the start.
 *
 * - connect: a CONNECT answered with a refusing CONNACK, a connection closed at once for the
 *   listener's connection cap, or an authentication that failed unexpectedly.
 * - publish / subscribe: a PUBLISH (or one filter of a SUBSCRIBE) refused with the connection kept.
 * - protocol: a connection closed because the client broke the protocol (MqttConnection.protocolError).
 */
export const MQTT_REFUSAL_REASONS = {
  connect: [
    'bad_credentials',
    'not_authorized',
    'client_id_rejected',
    'session_owned_by_other_user',
    'will_topic_invalid',
    'will_not_authorized',
    'connection_limit',
    'auth_error',
  ],
  publish: ['not_authorized', 'quota_exceeded', 'not_stored'],
  subscribe: ['not_authorized', 'invalid_filter', 'subscription_limit'],
  protocol: [
    'malformed_packet',
    'packet_too_large',
    'packet_limit',
    'unexpected_packet',
    'connect_timeout',
    'invalid_topic',
    'topic_alias_invalid',
    'receive_maximum_exceeded',
    'protocol_violation',
  ],
} as const;

export type MqttRefusalOperation = keyof typeof MQTT_REFUSAL_REASONS;
export type MqttRefusalReason<O extends MqttRefusalOperation = MqttRefusalOperation> = (typeof MQTT_REFUSAL_REASONS)[O][number];
/** Why MqttConnection.protocolError closed a connection. */
export type ProtocolErrorKind = MqttRefusalReason<'protocol'>;

/** Refusals counted since start: operation → reason → count, every reason of the table present. */
export type MqttRefusalCounts = RefusalCounts<typeof MQTT_REFUSAL_REASONS>;

/** The gateway's refusal counters (one per gateway): a count per (operation, reason) of MQTT_REFUSAL_REASONS. */
export class MqttRefusalCounters extends RefusalCounters<typeof MQTT_REFUSAL_REASONS> {
  constructor() {
    super(MQTT_REFUSAL_REASONS);
  }
}
