import { InvalidTopicError, type TopicKind } from './errors.js';
import { quote } from './strings.js';

/**
 * Longest topic name or filter MQTT can carry: a UTF-8 string has a two-byte length prefix
 * (3.1.1 §1.5.3, 5.0 §1.5.4).
 */
export const MQTT_MAX_TOPIC_BYTES = 65_535;

/** Limits an endpoint may set below what the protocol allows. */
export interface TopicLimits {
  /** Longest topic name or filter in UTF-8 bytes; capped at MQTT_MAX_TOPIC_BYTES (the default). */
  readonly maxTopicLength?: number;
  /** Most levels (`/`-separated parts) in a topic name or filter; unlimited by default. */
  readonly maxTopicLevels?: number;
}

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;

/**
 * Checks a PUBLISH topic name (MQTT 3.1.1 / 5.0 §4.7): at least one character [MQTT-4.7.3-1],
 * no wildcard characters [MQTT-3.3.2-2], no U+0000 [MQTT-4.7.3-2], valid Unicode (no lone
 * surrogates) [MQTT-1.5.3-1], at most 65,535 UTF-8 bytes, and within `limits`.
 * Returns `topic`; throws InvalidTopicError (and nothing else) otherwise.
 */
export function validateMqttTopicName(topic: string, limits: TopicLimits = {}): string {
  return check(topic, 'topic name', limits);
}

/**
 * Checks a SUBSCRIBE / UNSUBSCRIBE topic filter (MQTT §4.7): the rules of a topic name, except
 * that `+` may stand as a whole level [MQTT-4.7.1-3] and `#` as the whole last level
 * [MQTT-4.7.1-2]. A shared subscription `$share/g/f` passes as the plain filter it spells; use
 * parseSharedSubscription to split it. Returns `filter`; throws InvalidTopicError otherwise.
 */
export function validateMqttTopicFilter(filter: string, limits: TopicLimits = {}): string {
  return check(filter, 'topic filter', limits);
}

function check(s: string, kind: TopicKind, limits: TopicLimits): string {
  if (typeof s !== 'string') throw new InvalidTopicError('not-a-string', kind, `expected a string, got ${s === null ? 'null' : typeof s}`);
  if (s.length === 0) throw new InvalidTopicError('empty', kind, 'must be at least one character long [MQTT-4.7.3-1]');
  const maxBytes = Math.min(limits.maxTopicLength ?? MQTT_MAX_TOPIC_BYTES, MQTT_MAX_TOPIC_BYTES);
  const maxLevels = limits.maxTopicLevels ?? Number.POSITIVE_INFINITY;
  // Every UTF-16 code unit is at least one UTF-8 byte, so this bounds the work on huge input.
  if (s.length > maxBytes) throw tooLong(s, kind, maxBytes);
  const filter = kind === 'topic filter';
  let bytes = 0;
  let levels = 1;
  let levelStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      bytes += 1;
      if (c === SLASH) {
        if (++levels > maxLevels) throw new InvalidTopicError('too-many-levels', kind, `${quote(s)} has more than ${maxLevels} levels`);
        levelStart = i + 1;
      } else if (c === PLUS) {
        if (!filter)
          throw new InvalidTopicError('wildcard-in-topic-name', kind, `${quote(s)} contains '+'; wildcards belong in topic filters only [MQTT-3.3.2-2]`);
        const next = s.charCodeAt(i + 1);
        if (i !== levelStart || !(i + 1 === s.length || next === SLASH)) {
          throw new InvalidTopicError('misplaced-single-level-wildcard', kind, `${quote(s)}: '+' must occupy a whole level [MQTT-4.7.1-3]`);
        }
      } else if (c === HASH) {
        if (!filter)
          throw new InvalidTopicError('wildcard-in-topic-name', kind, `${quote(s)} contains '#'; wildcards belong in topic filters only [MQTT-3.3.2-2]`);
        if (i !== levelStart || i + 1 !== s.length) {
          throw new InvalidTopicError('misplaced-multi-level-wildcard', kind, `${quote(s)}: '#' must be the whole last level [MQTT-4.7.1-2]`);
        }
      } else if (c === 0) {
        throw new InvalidTopicError('null-character', kind, `${quote(s)} contains U+0000 [MQTT-4.7.3-2]`);
      }
    } else if (c < 0x800) {
      bytes += 2;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        throw new InvalidTopicError('ill-formed-unicode', kind, `${quote(s)} contains a lone surrogate at index ${i}; it is not valid UTF-8 [MQTT-1.5.3-1]`);
      }
      bytes += 4;
      i++;
    } else {
      bytes += 3;
    }
  }
  if (bytes > maxBytes) throw tooLong(s, kind, maxBytes);
  return s;
}

function tooLong(s: string, kind: TopicKind, maxBytes: number): InvalidTopicError {
  return new InvalidTopicError('too-long', kind, `${quote(s)} is longer than ${maxBytes} UTF-8 bytes`);
}
