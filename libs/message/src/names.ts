import { ApogeeError } from './errors.js';
import { MULTI_DISPATCH_SEPARATOR } from './property-keys.js';
import { LMQ_PREFIX, MAX_RETRY_TOPIC_LENGTH, MAX_TOPIC_LENGTH, NAME_CHARS, isDlqTopic, isRetryTopic } from './rocketmq-vocabulary.js';

/** A topic, queue or LMQ name that the store does not accept. */
export class IllegalNameError extends ApogeeError {
  constructor(message: string) {
    super('APG_ILLEGAL_NAME', message);
  }
}

/** Longest LMQ name in UTF-8 bytes (MQTT topics are long; index keys must stay bounded). */
export const MAX_LMQ_NAME_BYTES = 1024;
/** Most LMQs one message may be dispatched into. */
export const MAX_LMQS_PER_MESSAGE = 1024;

export function isLmqName(name: string): boolean {
  return name.startsWith(LMQ_PREFIX);
}

/** Throws IllegalNameError unless `topic` is a legal topic or LMQ name; returns it otherwise. */
export function validateTopicName(topic: string): string {
  if (typeof topic !== 'string' || topic.length === 0) throw new IllegalNameError('topic name is empty');
  if (isLmqName(topic)) return validateLmqName(topic);
  const max = isRetryTopic(topic) || isDlqTopic(topic) ? MAX_RETRY_TOPIC_LENGTH : MAX_TOPIC_LENGTH;
  if (topic.length > max) throw new IllegalNameError(`topic name is ${topic.length} characters; the limit is ${max}`);
  if (!NAME_CHARS.test(topic)) throw new IllegalNameError(`topic name ${JSON.stringify(topic)} has characters outside [%|a-zA-Z0-9_-]`);
  return topic;
}

/**
 * LMQ names start with `%LMQ%` and carry MQTT-style names, so the charset is wide: anything but
 * control characters and the list separator `,`, at most MAX_LMQ_NAME_BYTES bytes.
 */
export function validateLmqName(name: string): string {
  if (!isLmqName(name) || name.length === LMQ_PREFIX.length)
    throw new IllegalNameError(`LMQ name ${JSON.stringify(name)} must be ${LMQ_PREFIX} followed by a name`);
  if (Buffer.byteLength(name, 'utf8') > MAX_LMQ_NAME_BYTES) throw new IllegalNameError(`LMQ name is longer than ${MAX_LMQ_NAME_BYTES} bytes`);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x2c) throw new IllegalNameError(`LMQ name ${JSON.stringify(name)} contains a control character or ','`);
    // Lone surrogates would not survive UTF-8 and so would not round-trip.
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = name.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) throw new IllegalNameError(`LMQ name ${JSON.stringify(name)} is not valid Unicode`);
      i++;
    }
  }
  return name;
}

/**
 * Parses an INNER_MULTI_DISPATCH value into LMQ names. Rejects empty entries, duplicates, names
 * that are not LMQs, and more than MAX_LMQS_PER_MESSAGE entries.
 */
export function parseMultiDispatch(value: string): string[] {
  const names = value.split(MULTI_DISPATCH_SEPARATOR);
  if (names.length > MAX_LMQS_PER_MESSAGE)
    throw new IllegalNameError(`a message may name at most ${MAX_LMQS_PER_MESSAGE} LMQs; this one names ${names.length}`);
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (n.length === 0) throw new IllegalNameError(`LMQ list ${JSON.stringify(value.slice(0, 200))} has an empty entry`);
    if (!validLmqNames.has(n)) {
      validateLmqName(n);
      if (validLmqNames.size >= VALID_NAME_CACHE) validLmqNames.clear();
      validLmqNames.add(n);
    }
  }
  if (names.length > 1) {
    if (names.length <= 16) {
      for (let i = 1; i < names.length; i++) for (let j = 0; j < i; j++) if (names[i] === names[j]) throw duplicate(names[i]!);
    } else {
      const seen = new Set<string>();
      for (const n of names) {
        if (seen.has(n)) throw duplicate(n);
        seen.add(n);
      }
    }
  }
  return names;
}

function duplicate(name: string): IllegalNameError {
  return new IllegalNameError(`LMQ list names ${JSON.stringify(name)} twice`);
}

/** LMQ names already validated (hot names repeat on every publish); bounded. */
const validLmqNames = new Set<string>();
const VALID_NAME_CACHE = 65_536;
