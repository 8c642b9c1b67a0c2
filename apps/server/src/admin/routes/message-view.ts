import { PropertyKey, decodeRecord, formatHost, uncompressBody } from '@apogee/message';

/** A stored message as the admin API shows it: where it is, its properties, and its body three ways. */
export interface MessageView {
  msgId: string;
  uniqKey: string | null;
  topic: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  tags: string | null;
  keys: string[];
  bornTimestamp: number;
  bornHost: string;
  storeTimestamp: number;
  storeHost: string;
  reconsumeTimes: number;
  sysFlag: number;
  bodySize: number;
  properties: Record<string, string>;
  body: { base64: string; text: string | null; json: unknown };
}

/** Bodies larger than this are cut in the view (the size says how large the whole is). */
export const MAX_VIEW_BODY_BYTES = 256 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a stored record for display: the body uncompressed, as text when it is UTF-8, as JSON when it parses. */
export function messageView(record: Buffer): MessageView {
  const m = decodeRecord(record);
  let body: Buffer;
  try {
    body = uncompressBody(m.body, m.sysFlag);
  } catch {
    body = m.body;
  }
  const shown = body.subarray(0, MAX_VIEW_BODY_BYTES);
  let text: string | null = null;
  try {
    text = utf8.decode(shown);
  } catch {
    text = null;
  }
  let json: unknown = null;
  if (text !== null && shown.length === body.length) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  const keys = m.properties.get(PropertyKey.KEYS);
  return {
    msgId: m.msgId,
    uniqKey: m.properties.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? null,
    topic: m.topic,
    queueId: m.queueId,
    queueOffset: m.queueOffset,
    commitLogOffset: m.commitLogOffset,
    tags: m.properties.get(PropertyKey.TAGS) ?? null,
    keys: keys ? keys.split(' ').filter((k) => k.length > 0) : [],
    bornTimestamp: m.bornTimestamp,
    bornHost: formatHost(m.bornHost),
    storeTimestamp: m.storeTimestamp,
    storeHost: formatHost(m.storeHost),
    reconsumeTimes: m.reconsumeTimes,
    sysFlag: m.sysFlag,
    bodySize: body.length,
    properties: Object.fromEntries(m.properties),
    body: { base64: shown.toString('base64'), text, json },
  };
}
