import { type MessageExt, PropertyKey, uncompressBody } from '@apogee/message';
import { Section, decodeHeader, encodeHeader, splitMessage } from '../codec/sections.js';
import { Code, encodeBinary, encodeDescribed, encodeList, encodeMap, encodeString, NULL_VALUE } from '../codec/types.js';
import { AmqpProperty, BODY_NONE, BODY_SECTIONS } from './properties.js';

/** Properties of the store's own that are not application data (not shown as application-properties). */
const SYSTEM = new Set<string>([...Object.values(PropertyKey), ...Object.values(AmqpProperty), 'UNIQ_KEY', 'CLUSTER']);

/**
 * The encoded AMQP message for a stored record. Messages that came in over AMQP get their sections
 * back as stored; others (native, MQTT) get a header, properties (message-id = UNIQ_KEY, subject =
 * TAGS), application-properties from their user properties and the body as one data section.
 * `extraDeliveries` is added to the header's delivery-count (failed earlier deliveries).
 */
export function toAmqpMessage(m: Pick<MessageExt, 'properties' | 'body' | 'sysFlag'>, extraDeliveries: number): Buffer {
  const props = m.properties;
  const parts: Buffer[] = [];
  const head = props.get(AmqpProperty.HEAD);
  if (head !== undefined) {
    let hb: Buffer = Buffer.from(head, 'base64');
    if (extraDeliveries > 0) hb = withDeliveryCount(hb, extraDeliveries);
    parts.push(hb);
  } else {
    parts.push(
      extraDeliveries === 0 ? FIRST_HEADER : encodeHeader({ durable: true, priority: 4, ttl: undefined, firstAcquirer: false, deliveryCount: extraDeliveries }),
    );
    const uniq = props.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    const tags = props.get(PropertyKey.TAGS);
    if (uniq !== undefined || tags !== undefined) {
      const fields = [uniq === undefined ? NULL_VALUE : encodeString(uniq), NULL_VALUE, NULL_VALUE, tags === undefined ? NULL_VALUE : encodeString(tags)];
      parts.push(encodeDescribed(Section.PROPERTIES, encodeList(fields)));
    }
    let app: Array<[Buffer, Buffer]> | null = null;
    props.forEach((v, k) => {
      if (!SYSTEM.has(k)) (app ??= []).push([encodeString(k), encodeString(v)]);
    });
    if (app) parts.push(encodeDescribed(Section.APPLICATION_PROPERTIES, encodeMap(app)));
  }
  const kind = props.get(AmqpProperty.BODY);
  const body = uncompressBody(m.body, m.sysFlag);
  const foot = props.get(AmqpProperty.FOOT);
  if (kind === BODY_SECTIONS || kind === BODY_NONE || foot !== undefined) {
    if (kind === BODY_SECTIONS) parts.push(body);
    else if (kind !== BODY_NONE) parts.push(encodeDescribed(Section.DATA, encodeBinary(body)));
    if (foot !== undefined) parts.push(Buffer.from(foot, 'base64'));
    // Always a fresh buffer (parts[0] may be the shared FIRST_HEADER).
    return Buffer.concat(parts);
  }
  // The common case, one data section last: head sections and the section written into one buffer.
  let headLength = 0;
  for (let i = 0; i < parts.length; i++) headLength += parts[i]!.length;
  const small = body.length < 256;
  const out = Buffer.allocUnsafe(headLength + 3 + (small ? 2 : 5) + body.length);
  let pos = 0;
  for (let i = 0; i < parts.length; i++) pos += parts[i]!.copy(out, pos);
  out[pos++] = Code.DESCRIBED;
  out[pos++] = Code.SMALLULONG;
  out[pos++] = Section.DATA;
  if (small) {
    out[pos++] = Code.VBIN8;
    out[pos++] = body.length;
  } else {
    out[pos++] = Code.VBIN32;
    out.writeUInt32BE(body.length, pos);
    pos += 4;
  }
  body.copy(out, pos);
  return out;
}

/** The header given to messages stored without one, on their first delivery. */
const FIRST_HEADER = encodeHeader({ durable: true, priority: 4, ttl: undefined, firstAcquirer: true, deliveryCount: 0 });

/** The head sections with the header's delivery-count raised by `extra` (a header is added if absent). */
function withDeliveryCount(head: Buffer, extra: number): Buffer {
  const layout = splitMessage(head);
  if (!layout.header) return Buffer.concat([encodeHeader({ durable: false, priority: 4, ttl: undefined, firstAcquirer: false, deliveryCount: extra }), head]);
  const h = decodeHeader(head, layout.header);
  h.deliveryCount = (h.deliveryCount + extra) >>> 0;
  h.firstAcquirer = false;
  return Buffer.concat([head.subarray(0, layout.header[0]), encodeHeader(h), head.subarray(layout.header[1])]);
}
