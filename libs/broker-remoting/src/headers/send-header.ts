import { type ExtFields, optionalBool, optionalInt, optionalString, requireInt, requireLong, requireString } from '@apogee/remoting';

/** SEND_MESSAGE request header (v1 names); SEND_MESSAGE_V2 uses single letters for the same fields. */
export interface SendMessageHeader {
  producerGroup: string;
  topic: string;
  defaultTopic: string;
  defaultTopicQueueNums: number;
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties?: string;
  reconsumeTimes?: number;
  unitMode?: boolean;
  batch?: boolean;
  maxReconsumeTimes?: number;
}

const V2_NAMES: Record<string, string> = {
  a: 'producerGroup',
  b: 'topic',
  c: 'defaultTopic',
  d: 'defaultTopicQueueNums',
  e: 'queueId',
  f: 'sysFlag',
  g: 'bornTimestamp',
  h: 'flag',
  i: 'properties',
  j: 'reconsumeTimes',
  k: 'unitMode',
  l: 'maxReconsumeTimes',
  m: 'batch',
};

/** The letter → name pairs, built once (not per message). */
const V2_PAIRS: ReadonlyArray<readonly [string, string]> = Object.entries(V2_NAMES);

/** Reads a v1 header, or a v2 header by its letters (`v2` true for codes 310 and 320). */
export function readSendHeader(ext: ExtFields, v2: boolean): SendMessageHeader {
  let e = ext;
  if (v2) {
    const mapped: Record<string, string> = {};
    for (let i = 0; i < V2_PAIRS.length; i++) {
      const [letter, name] = V2_PAIRS[i]!;
      const v = Object.hasOwn(ext, letter) ? ext[letter] : undefined;
      if (v !== undefined) mapped[name] = v;
    }
    e = mapped;
  }
  const h: SendMessageHeader = {
    producerGroup: requireString(e, 'producerGroup'),
    topic: requireString(e, 'topic'),
    defaultTopic: requireString(e, 'defaultTopic'),
    defaultTopicQueueNums: requireInt(e, 'defaultTopicQueueNums'),
    queueId: requireInt(e, 'queueId'),
    sysFlag: requireInt(e, 'sysFlag'),
    bornTimestamp: requireLong(e, 'bornTimestamp'),
    flag: requireInt(e, 'flag'),
  };
  const properties = optionalString(e, 'properties');
  if (properties !== undefined) h.properties = properties;
  const reconsumeTimes = optionalInt(e, 'reconsumeTimes');
  if (reconsumeTimes !== undefined) h.reconsumeTimes = reconsumeTimes;
  const unitMode = optionalBool(e, 'unitMode');
  if (unitMode !== undefined) h.unitMode = unitMode;
  const batch = optionalBool(e, 'batch');
  if (batch !== undefined) h.batch = batch;
  const max = optionalInt(e, 'maxReconsumeTimes');
  if (max !== undefined) h.maxReconsumeTimes = max;
  return h;
}
