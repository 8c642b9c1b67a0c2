import {
  DEFAULT_TOPIC,
  DLQ_GROUP_TOPIC_PREFIX,
  MAX_GROUP_LENGTH,
  MAX_TOPIC_LENGTH,
  hasSystemTopicPrefixIgnoringCase,
  isNotSendableTopic,
} from '@apogee/message';
import type { AmqpConfig } from './config.js';
import { Condition } from './errors.js';
import { fitRocketName, InvalidTopicError, storeTopicOfFirstLevel, validateMqttTopicFilter, validateMqttTopicName } from '@apogee/topics';

/*
 * AMQP addresses and where they live in the store (docs/amqp.md):
 *
 *   address            kind    store topic                                   read by group
 *   orders             queue   `orders` (a legal RocketMQ topic name, not     `AMQP_orders`
 *                              starting AMQP_/MQTT_/rmq_sys_, not a system
 *                              topic), else `AMQP_` + escape(address)
 *   topic/a/b          topic   storeTopicOf('a/b') as MQTT stores it (`a`),   one per subscription
 *                              property mqttTopic = `a/b`
 *   $dlq/<address>     dlq     `%DLQ%AMQP_` + escape(<address>)                `AMQP_DLQ_` + escape
 *
 * ACL rules see `aclName`: the queue name, the MQTT topic of a topic address, and for a
 * dead-letter address the aclName of the address it belongs to.
 *
 * Escapes and hash-shortening are libs/mqtt's (fitRocketName), so names are deterministic.
 */

const PLAIN_QUEUE = /^[a-zA-Z0-9_|-]+$/;
const QUEUE_GROUP_PREFIX = 'AMQP_';
const DLQ_LABEL_PREFIX = 'AMQP_';
const DLQ_GROUP_PREFIX = 'AMQP_DLQ_';

export type AmqpAddress =
  | { kind: 'queue'; address: string; storeTopic: string; group: string; aclName: string }
  | { kind: 'topic'; address: string; name: string; storeTopic: string; aclName: string }
  | { kind: 'dlq'; address: string; of: string; storeTopic: string; group: string; aclName: string };

/** An address that cannot be used; `condition` is the AMQP error condition to answer with. */
export class AddressError extends Error {
  constructor(
    readonly condition: string,
    readonly description: string,
  ) {
    super(description);
    this.name = 'AddressError';
  }
}

/**
 * Parses a link's address for sending to it ('send': names only) or receiving from it
 * ('receive': topic addresses may be MQTT filters whose first level is literal).
 */
export function parseAddress(address: unknown, cfg: AmqpConfig, role: 'send' | 'receive'): AmqpAddress {
  if (typeof address !== 'string' || address.length === 0)
    throw new AddressError(Condition.INVALID_FIELD, 'the terminus has no address; Apogee needs a queue name or a topic address');
  if (address.length > cfg.maxAddressLength)
    throw new AddressError(Condition.INVALID_FIELD, `address is ${address.length} characters long; the limit is ${cfg.maxAddressLength}`);
  const bad = illegalCharacterIn(address);
  if (bad) throw new AddressError(Condition.INVALID_FIELD, `address contains ${bad}`);
  if (address.startsWith(cfg.deadLetterPrefix)) {
    if (role === 'send')
      throw new AddressError(Condition.NOT_ALLOWED, `${address} is a dead-letter address: rejected messages arrive there; it cannot be sent to`);
    const of = address.slice(cfg.deadLetterPrefix.length);
    const inner = parseAddress(of, cfg, 'receive');
    if (inner.kind === 'dlq') throw new AddressError(Condition.INVALID_FIELD, 'a dead-letter address of a dead-letter address does not exist');
    // Checked by the rule of the address it holds the rejects of (`$dlq/bob/inbox` by `bob/inbox`).
    return {
      kind: 'dlq',
      address,
      of,
      storeTopic: deadLetterTopicOf(of),
      group: fitRocketName(DLQ_GROUP_PREFIX, of, MAX_GROUP_LENGTH),
      aclName: inner.aclName,
    };
  }
  if (address.startsWith(cfg.topicPrefix)) {
    const name = address.slice(cfg.topicPrefix.length);
    try {
      if (role === 'send') validateMqttTopicName(name);
      else validateMqttTopicFilter(name);
    } catch (err) {
      if (err instanceof InvalidTopicError) throw new AddressError(Condition.INVALID_FIELD, `${address}: ${err.message}`);
      throw err;
    }
    const slash = name.indexOf('/');
    const first = slash < 0 ? name : name.slice(0, slash);
    if (first === '+' || first === '#')
      throw new AddressError(Condition.INVALID_FIELD, `${address}: the first level of a topic subscription must be literal (it names the store topic)`);
    return { kind: 'topic', address, name, storeTopic: storeTopicOfFirstLevel(first), aclName: name };
  }
  return { kind: 'queue', address, storeTopic: queueTopicOf(address), group: fitRocketName(QUEUE_GROUP_PREFIX, address, MAX_GROUP_LENGTH), aclName: address };
}

/** Longest link name accepted (durable subscriptions are named by container id and link name). */
export const MAX_LINK_NAME_LENGTH = 1024;

/**
 * What makes a name unusable, or null: a C0/C1 control character (NUL included) or an unpaired
 * surrogate (it would not survive UTF-8), e.g. "the control character U+0000 at 3".
 */
export function illegalCharacterIn(name: string): string | null {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return `the control character U+${c.toString(16).padStart(4, '0').toUpperCase()} at ${i}`;
    if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c <= 0xdbff && i + 1 < name.length && (name.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (!pair) return `an unpaired surrogate at ${i}`;
      i++;
    }
  }
  return null;
}

/**
 * Throws an AddressError (amqp:invalid-field) for a link name that is empty, longer than
 * MAX_LINK_NAME_LENGTH or holds a control character: link names name durable subscriptions and
 * appear in logs, so they get the same rules as addresses.
 */
export function checkLinkName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0) throw new AddressError(Condition.INVALID_FIELD, 'the attach has no link name');
  if (name.length > MAX_LINK_NAME_LENGTH)
    throw new AddressError(Condition.INVALID_FIELD, `link name is ${name.length} characters long; the limit is ${MAX_LINK_NAME_LENGTH}`);
  const bad = illegalCharacterIn(name);
  if (bad) throw new AddressError(Condition.INVALID_FIELD, `link name contains ${bad}`);
}

/** The store topic of a queue address (table above). */
export function queueTopicOf(queue: string): string {
  const plain =
    queue.length <= MAX_TOPIC_LENGTH &&
    PLAIN_QUEUE.test(queue) &&
    !queue.startsWith('AMQP_') &&
    !queue.startsWith('MQTT_') &&
    !hasSystemTopicPrefixIgnoringCase(queue) &&
    !isNotSendableTopic(queue) &&
    queue !== DEFAULT_TOPIC;
  return plain ? queue : fitRocketName(QUEUE_GROUP_PREFIX, queue, MAX_TOPIC_LENGTH);
}

/** The store topic rejected messages of `address` are moved to (a RocketMQ DLQ topic). */
export function deadLetterTopicOf(address: string): string {
  return DLQ_GROUP_TOPIC_PREFIX + fitRocketName(DLQ_LABEL_PREFIX, address, MAX_TOPIC_LENGTH - DLQ_GROUP_TOPIC_PREFIX.length);
}
