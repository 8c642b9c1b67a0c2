import { LMQ_PREFIX, MAX_GROUP_LENGTH } from '@apogee/message';
import { InvalidClientIdError } from './errors.js';
import { fitRocketName } from './escape.js';
import { validateShareName } from './shared.js';
import { quote, utf8Length } from './strings.js';
import { validateMqttTopicFilter } from './validate.js';

/*
 * Consumer groups the MQTT endpoint stores offsets under (RocketMQ group charset
 * [%|a-zA-Z0-9_-], at most 255 characters):
 *
 *   what                                 group
 *   -----------------------------------  ---------------------------------------------------------
 *   session of client `c`                `%LMQ%` + escapeRocketName(c)
 *                                        (`dev-1` → `%LMQ%dev-1`, `mqttjs_1f` → `%LMQ%mqttjs_5F1f`,
 *                                        `a/b` → `%LMQ%a|b`); a `%LMQ%` group keeps its offsets in
 *                                        the LMQ offset table, keyed `<lmq>@<group>`, like
 *                                        rocketmq-mqtt
 *   shared subscription `$share/g/f`     `%MQTTSHARE%` + escapeRocketName(`g/f`)
 *                                        (`$share/g1/a/+` → `%MQTTSHARE%g1|a|_2B`)
 *   … either longer than 255 characters  prefix + escape prefix + `_H` + 32 hex of SHA-256
 *
 * escapeRocketName is injective and a ShareName holds no `/`, so (g, f) ↔ `g/f` is too.
 */

/** Prefix of the consumer groups of shared subscriptions. */
export const SHARE_GROUP_PREFIX = '%MQTTSHARE%';

/**
 * The consumer group a shared subscription `$share/<group>/<filter>` reads the filter's LMQ
 * with. The filter is part of the name because MQTT 5.0 §4.8.2 makes ShareName and filter
 * together one shared subscription: `$share/g/a` and `$share/g/b` have different members, and a
 * RocketMQ group whose members subscribe to different things rebalances badly. Throws
 * InvalidTopicError for an invalid ShareName or filter.
 */
export function sharedLmqGroup(group: string, filter: string): string {
  validateShareName(group);
  validateMqttTopicFilter(filter);
  return fitRocketName(SHARE_GROUP_PREFIX, `${group}/${filter}`, MAX_GROUP_LENGTH);
}

/**
 * The consumer group under which a session stores its LMQ offsets (rocketmq-mqtt:
 * `%LMQ%<clientId>`), escaped into the group charset and hash-shortened past 255 characters.
 * Throws InvalidClientIdError for an empty client id (the server assigns one first) or one that
 * is not valid Unicode.
 */
export function sessionGroupOf(clientId: string): string {
  if (typeof clientId !== 'string' || clientId.length === 0) throw new InvalidClientIdError('a session needs a non-empty client identifier');
  if (utf8Length(clientId) < 0) throw new InvalidClientIdError(`client identifier ${quote(clientId)} is not valid Unicode`);
  return fitRocketName(LMQ_PREFIX, clientId, MAX_GROUP_LENGTH);
}
