import type { IPublishPacket } from 'mqtt-packet';

type PublishProperties = NonNullable<IPublishPacket['properties']>;

/**
 * MQTT 5 PUBLISH properties as RocketMQ message properties (the cross-protocol table in
 * docs/mqtt.md). Message expiry is kept as an absolute time so the remaining interval can be
 * computed at delivery [MQTT-3.3.2-6].
 */
export const V5Property = {
  PAYLOAD_FORMAT: 'mqttPayloadFormat',
  EXPIRY_AT: 'mqttExpiryAt',
  CONTENT_TYPE: 'mqttContentType',
  RESPONSE_TOPIC: 'mqttResponseTopic',
  CORRELATION_DATA: 'mqttCorrelationData',
  USER_PROPERTIES: 'mqttUserProperties',
} as const;

/** Adds a PUBLISH's v5 properties to the store properties. */
export function putV5Properties(out: Map<string, string>, p: PublishProperties | undefined, now: number): void {
  if (!p) return;
  if (p.payloadFormatIndicator) out.set(V5Property.PAYLOAD_FORMAT, '1');
  if (p.messageExpiryInterval !== undefined) out.set(V5Property.EXPIRY_AT, String(now + p.messageExpiryInterval * 1000));
  if (p.contentType !== undefined) out.set(V5Property.CONTENT_TYPE, p.contentType);
  if (p.responseTopic !== undefined) out.set(V5Property.RESPONSE_TOPIC, p.responseTopic);
  if (p.correlationData !== undefined) out.set(V5Property.CORRELATION_DATA, Buffer.from(p.correlationData).toString('base64'));
  if (p.userProperties) {
    // Order and repeated names are part of the message [MQTT-3.3.2-18]: keep them as pairs.
    const pairs: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(p.userProperties)) for (const one of Array.isArray(v) ? v : [v]) pairs.push([k, String(one)]);
    if (pairs.length > 0) out.set(V5Property.USER_PROPERTIES, JSON.stringify(pairs));
  }
}

/** True when a message with these store properties has expired at `now`. */
export function isExpiredMessage(props: ReadonlyMap<string, string>, now: number): boolean {
  const at = props.get(V5Property.EXPIRY_AT);
  return at !== undefined && Number(at) <= now;
}

/** The v5 PUBLISH properties to send for a stored message (expiry as the time left). */
export function getV5Properties(props: ReadonlyMap<string, string>, now: number): PublishProperties {
  const out: PublishProperties = {};
  if (props.get(V5Property.PAYLOAD_FORMAT) === '1') out.payloadFormatIndicator = true;
  const at = props.get(V5Property.EXPIRY_AT);
  if (at !== undefined) out.messageExpiryInterval = Math.max(1, Math.ceil((Number(at) - now) / 1000));
  const ct = props.get(V5Property.CONTENT_TYPE);
  if (ct !== undefined) out.contentType = ct;
  const rt = props.get(V5Property.RESPONSE_TOPIC);
  if (rt !== undefined) out.responseTopic = rt;
  const cd = props.get(V5Property.CORRELATION_DATA);
  if (cd !== undefined) out.correlationData = Buffer.from(cd, 'base64');
  const up = props.get(V5Property.USER_PROPERTIES);
  if (up !== undefined) {
    try {
      const pairs = JSON.parse(up) as Array<[string, string]>;
      const user: Record<string, string | string[]> = {};
      for (const [k, v] of pairs) {
        const cur = user[k];
        // Repeated names grow one array in place (a copy per value was quadratic in the count).
        if (cur === undefined) user[k] = v;
        else if (Array.isArray(cur)) cur.push(v);
        else user[k] = [cur, v];
      }
      out.userProperties = user;
    } catch {
      // A damaged property is dropped, the message still goes out.
    }
  }
  return out;
}
