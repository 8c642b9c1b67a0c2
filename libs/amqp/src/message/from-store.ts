import { type MessageExt, PropertyKey, uncompressBody } from '@apogee/message';
import { Section, decodeHeader, encodeHeader, splitMessage } from '../codec/sections.js';
import { encodeBinary, encodeDescribed, encodeList, encodeMap, encodeString, NULL_VALUE } from '../codec/types.js';
import { AmqpProperty, BODY_NONE, BODY_SECTIONS } from './properties.js';

/** Properties of the store's own that are not application data (not shown as application-properties). */
const SYSTEM = new Set<string>([...Object.values(PropertyKey), ...Object.values(AmqpProperty), 'UNIQ_KEY', 'CLUSTER']);

/**
 * The encoded AMQP message for a stored record. Messages that came in over AMQP get their sections
 * back as stored; others (native, MQTT) get a header, properties (message-id = UNIQ_KEY, subject =
 * TAGS), application-properties from their user properties and the body as one data section.
 * `extraDeliveries` is added to the header's delivery-count (failed earlier deliveries).
 */
export function toAmqpMessage(m: MessageExt, extraDeliveries: number): Buffer {
  const props = m.properties;
  const parts: Buffer[] = [];
  const head = props.get(AmqpProperty.HEAD);
  if (head !== undefined) {
    let hb: Buffer = Buffer.from(head, 'base64');
    if (extraDeliveries > 0) hb = withDeliveryCount(hb, extraDeliveries);
    parts.push(hb);
  } else {
    parts.push(encodeHeader({ durable: true, priority: 4, ttl: undefined, firstAcquirer: extraDeliveries === 0, deliveryCount: extraDeliveries }));
    const uniq = props.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    const tags = props.get(PropertyKey.TAGS);
    if (uniq !== undefined || tags !== undefined) {
      const fields = [uniq === undefined ? NULL_VALUE : encodeString(uniq), NULL_VALUE, NULL_VALUE, tags === undefined ? NULL_VALUE : encodeString(tags)];
      parts.push(encodeDescribed(Section.PROPERTIES, encodeList(fields)));
    }
    const app: Array<[Buffer, Buffer]> = [];
    for (const [k, v] of props) if (!SYSTEM.has(k)) app.push([encodeString(k), encodeString(v)]);
    if (app.length > 0) parts.push(encodeDescribed(Section.APPLICATION_PROPERTIES, encodeMap(app)));
  }
  const kind = props.get(AmqpProperty.BODY);
  const body = uncompressBody(m.body, m.sysFlag);
  if (kind === BODY_SECTIONS) parts.push(body);
  else if (kind !== BODY_NONE) parts.push(encodeDescribed(Section.DATA, encodeBinary(body)));
  const foot = props.get(AmqpProperty.FOOT);
  if (foot !== undefined) parts.push(Buffer.from(foot, 'base64'));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** The head sections with the header's delivery-count raised by `extra` (a header is added if absent). */
function withDeliveryCount(head: Buffer, extra: number): Buffer {
  const layout = splitMessage(head);
  if (!layout.header) return Buffer.concat([encodeHeader({ durable: false, priority: 4, ttl: undefined, firstAcquirer: false, deliveryCount: extra }), head]);
  const h = decodeHeader(head, layout.header);
  h.deliveryCount = (h.deliveryCount + extra) >>> 0;
  h.firstAcquirer = false;
  return Buffer.concat([head.subarray(0, layout.header[0]), encodeHeader(h), head.subarray(layout.header[1])]);
}
