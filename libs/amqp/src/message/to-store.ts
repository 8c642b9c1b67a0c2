import { PropertyKey } from '@apogee/message';
import { propertiesSubject, splitMessage, stringApplicationProperties } from '../codec/sections.js';
import { Code } from '../codec/types.js';
import { AmqpProperty, BODY_NONE, BODY_SECTIONS } from './properties.js';
import { putTimerProperties } from './timer-annotations.js';

const RESERVED = new Set<string>([...Object.values(PropertyKey), ...Object.values(AmqpProperty), 'UNIQ_KEY', 'CLUSTER']);

/** Whether an application property may also ride as a plain RocketMQ property. */
function isPlainPropertyKey(k: string): boolean {
  if (k.length === 0 || k.length > 255 || RESERVED.has(k) || k.startsWith('AMQP_') || k.startsWith('__RMQ.')) return false;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (c < 0x20) return false;
  }
  return true;
}

function hasSeparators(v: string): boolean {
  return v.includes('\u0001') || v.includes('\u0002');
}

/** A message as the store keeps it. */
export interface StoredForm {
  body: Buffer;
  properties: Map<string, string>;
}

/**
 * Maps an encoded AMQP message onto a RocketMQ body and properties: one data section becomes the
 * body itself (native and MQTT readers see the bytes); every other section is kept encoded, so an
 * AMQP reader gets the message back exactly. String application-properties are also copied as
 * plain properties and the subject as TAGS, for native consumers and filters.
 * Throws AmqpDecodeError for bytes that are not a well-formed message.
 */
export function toStoredForm(encoded: Buffer): StoredForm {
  const layout = splitMessage(encoded);
  const props = new Map<string, string>();
  if (layout.applicationProperties) {
    for (const [k, v] of stringApplicationProperties(encoded, layout.applicationProperties))
      if (isPlainPropertyKey(k) && !hasSeparators(k) && !hasSeparators(v)) props.set(k, v);
  }
  putTimerProperties(encoded, layout, props);
  if (layout.properties) {
    const subject = propertiesSubject(encoded, layout.properties);
    if (subject !== undefined && subject.length > 0 && !hasSeparators(subject)) props.set(PropertyKey.TAGS, subject);
  }
  if (layout.head[1] > layout.head[0]) props.set(AmqpProperty.HEAD, encoded.toString('base64', layout.head[0], layout.head[1]));
  if (layout.footer) props.set(AmqpProperty.FOOT, encoded.toString('base64', layout.footer[0], layout.footer[1]));
  let body: Buffer;
  if (layout.bodyKind === 'data' && layout.bodySections === 1) {
    const v = layout.firstBodyValue;
    body = encoded.subarray(encoded[v] === Code.VBIN8 ? v + 2 : v + 5, layout.body[1]);
  } else if (layout.bodyKind === 'none') {
    body = Buffer.alloc(0);
    props.set(AmqpProperty.BODY, BODY_NONE);
  } else {
    body = encoded.subarray(layout.body[0], layout.body[1]);
    props.set(AmqpProperty.BODY, BODY_SECTIONS);
  }
  return { body, properties: props };
}
