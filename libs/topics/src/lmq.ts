import { LMQ_PREFIX, MAX_LMQ_NAME_BYTES } from '@apogee/message';
import { escapeLmqLevel, HASH_HEX_DIGITS, LMQ_HASH_MARKER, nameHash, unescapeLmqLevel } from './escape.js';
import { validateMqttTopicFilter } from './validate.js';

/** Separator of levels inside an LMQ name (rocketmq-mqtt writes `a/b/c` as `%LMQ%a%b%c%`). */
const LEVEL_SEPARATOR = '%';

/** Budget for the kept prefix of a hash-shortened LMQ name, in UTF-8 bytes. */
const SHORTENED_BODY_BYTES = MAX_LMQ_NAME_BYTES - LMQ_PREFIX.length - LMQ_HASH_MARKER.length - HASH_HEX_DIGITS - LEVEL_SEPARATOR.length;

/**
 * The LMQ a topic name or topic filter is dispatched into / read from, as rocketmq-mqtt names it:
 * `%LMQ%` + the levels joined by `%` + a trailing `%`:
 *   `a/b/c` → `%LMQ%a%b%c%`, `a/+/c` → `%LMQ%a%+%c%`, `a/#` → `%LMQ%a%#%`, `a` → `%LMQ%a%`,
 *   `/a` → `%LMQ%%a%`, `a/` → `%LMQ%a%%`, `a%b/c` → `%LMQ%a~25b%c%`.
 * Inside a level `%`, `~`, `,` and control characters are escaped as `~XX` (see escape.ts), so
 * the mapping is injective and every result passes validateLmqName. Unlike rocketmq-mqtt, a
 * single-level topic also gets the trailing `%` and `a/b/` stays apart from `a/b`.
 * When the name would exceed MAX_LMQ_NAME_BYTES (1,024) UTF-8 bytes it is shortened
 * deterministically: `%LMQ%` + a prefix of the escaped levels + `~H` + 32 hex digits of SHA-256
 * over the filter + `%`, exactly as long as fits.
 * `filterOrTopic` must be a valid topic filter (topic names are filters too; pass the filter
 * part of a shared subscription, not `$share/…`); throws InvalidTopicError otherwise.
 */
export function lmqOf(filterOrTopic: string): string {
  validateMqttTopicFilter(filterOrTopic);
  let body = '';
  let start = 0;
  for (;;) {
    const end = filterOrTopic.indexOf('/', start);
    body += escapeLmqLevel(end < 0 ? filterOrTopic.slice(start) : filterOrTopic.slice(start, end)) + LEVEL_SEPARATOR;
    if (end < 0) break;
    start = end + 1;
  }
  const name = LMQ_PREFIX + body;
  // Byte length ≤ 3 × UTF-16 length, so short names skip the count.
  if (name.length * 3 <= MAX_LMQ_NAME_BYTES || Buffer.byteLength(name, 'utf8') <= MAX_LMQ_NAME_BYTES) return name;
  return LMQ_PREFIX + cutToBytes(body, SHORTENED_BODY_BYTES) + LMQ_HASH_MARKER + nameHash(filterOrTopic) + LEVEL_SEPARATOR;
}

/**
 * The topic filter (or topic name) whose lmqOf is `name`; undefined when `name` is not one
 * (another LMQ, a hash-shortened name, non-canonical escapes, not an LMQ at all).
 */
export function filterOfLmq(name: string): string | undefined {
  if (typeof name !== 'string' || !name.startsWith(LMQ_PREFIX) || !name.endsWith(LEVEL_SEPARATOR) || name.length <= LMQ_PREFIX.length + 1) return undefined;
  const levels = name.slice(LMQ_PREFIX.length, -1).split(LEVEL_SEPARATOR);
  for (let i = 0; i < levels.length; i++) {
    const level = unescapeLmqLevel(levels[i]!);
    if (level === undefined) return undefined;
    levels[i] = level;
  }
  const filter = levels.join('/');
  try {
    return lmqOf(filter) === name ? filter : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `name` is a hash-shortened LMQ name produced by lmqOf. */
export function isShortenedLmq(name: string): boolean {
  return name.startsWith(LMQ_PREFIX) && name.includes(LMQ_HASH_MARKER);
}

/** The longest prefix of `body` within `maxBytes` UTF-8 bytes that splits no `~XX` escape and no surrogate pair. */
function cutToBytes(body: string, maxBytes: number): string {
  let bytes = 0;
  let i = 0;
  while (i < body.length) {
    const c = body.charCodeAt(i);
    let units = 1;
    let size: number;
    if (c === 0x7e) {
      units = 3;
      size = 3;
    } else if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      units = 2;
      size = 4;
    } else size = 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += units;
  }
  return body.slice(0, i);
}
