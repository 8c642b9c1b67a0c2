import { InvalidTopicError } from './errors.js';
import { quote } from './strings.js';
import { validateMqttTopicFilter, type TopicLimits } from './validate.js';

/** Prefix of a shared subscription filter (MQTT 5.0 §4.8.2). */
export const SHARE_PREFIX = '$share/';

/** A shared subscription `$share/<group>/<filter>` split into its parts. */
export interface SharedSubscription {
  /** The ShareName: non-empty, without `/`, `+` or `#`. */
  readonly group: string;
  /** The topic filter the group shares; a valid filter. */
  readonly filter: string;
}

/**
 * Splits a SUBSCRIBE filter into a shared subscription (MQTT 5.0 §4.8.2):
 * `$share/<group>/<filter>` → `{ group, filter }`; any filter not starting with `$share/` →
 * null (a normal subscription; it is validated too). The whole string, limits included, must be
 * a valid topic filter; the ShareName must be at least one character and hold no `/`, `+` or
 * `#` [MQTT-4.8.2-1, MQTT-4.8.2-2]; the filter after it must be present and valid. Throws
 * InvalidTopicError (reasons `invalid-share-name`, `missing-share-filter`, or the filter's own).
 */
export function parseSharedSubscription(topicFilter: string, limits: TopicLimits = {}): SharedSubscription | null {
  if (typeof topicFilter !== 'string' || !topicFilter.startsWith(SHARE_PREFIX)) {
    validateMqttTopicFilter(topicFilter, limits);
    return null;
  }
  const slash = topicFilter.indexOf('/', SHARE_PREFIX.length);
  const group = topicFilter.slice(SHARE_PREFIX.length, slash < 0 ? topicFilter.length : slash);
  validateShareName(group);
  if (slash < 0 || slash + 1 === topicFilter.length) {
    throw new InvalidTopicError('missing-share-filter', 'topic filter', `${quote(topicFilter)} has no topic filter after the ShareName [MQTT-4.8.2-2]`);
  }
  // Limits apply to the whole string; once it is a valid filter, so is the part after the ShareName.
  validateMqttTopicFilter(topicFilter, limits);
  return { group, filter: topicFilter.slice(slash + 1) };
}

/**
 * Checks a ShareName on its own (non-empty, no `/`, `+`, `#`, U+0000 or lone surrogate); returns
 * it or throws InvalidTopicError with reason `invalid-share-name`.
 */
export function validateShareName(group: string): string {
  if (typeof group !== 'string' || group.length === 0) {
    throw new InvalidTopicError('invalid-share-name', 'topic filter', 'the ShareName of a shared subscription must be at least one character [MQTT-4.8.2-1]');
  }
  if (/[/+#\u0000]/.test(group)) {
    throw new InvalidTopicError('invalid-share-name', 'topic filter', `ShareName ${quote(group)} must not contain '/', '+', '#' or U+0000 [MQTT-4.8.2-2]`);
  }
  if (/\p{Surrogate}/u.test(group)) {
    throw new InvalidTopicError('invalid-share-name', 'topic filter', `ShareName ${quote(group)} is not valid Unicode`);
  }
  return group;
}
