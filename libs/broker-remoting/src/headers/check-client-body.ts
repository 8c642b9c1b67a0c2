import { BrokerError } from '@apogee/broker';

/** The subscription a CheckClientRequestBody asks about (SubscriptionData, the fields the check reads). */
export interface CheckedSubscription {
  topic?: string;
  /** "TAG", "SQL92", …; absent or "" means TAG (ExpressionType.isTagType). */
  expressionType?: string;
  subString?: string;
}

/** CheckClientRequestBody (CHECK_CLIENT_CONFIG 46): who asks, for which group, about which subscription. */
export interface CheckClientBody {
  clientId?: string;
  group?: string;
  subscriptionData?: CheckedSubscription;
}

/**
 * Parses a CheckClientRequestBody; the JSON `null` is no body (RocketMQ then answers SUCCESS), and
 * a missing or malformed one throws SYSTEM_ERROR, as RocketMQ's decoding throwing is answered.
 */
export function parseCheckClientBody(body: Buffer | undefined): CheckClientBody | null {
  if (!body || body.length === 0) throw new BrokerError('SYSTEM_ERROR', 'CHECK_CLIENT_CONFIG without a CheckClientRequestBody');
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new BrokerError('SYSTEM_ERROR', `CheckClientRequestBody is not JSON: ${(err as Error).message}`);
  }
  if (doc === null) return null;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new BrokerError('SYSTEM_ERROR', 'CheckClientRequestBody is not a JSON object');
  const o = doc as Record<string, unknown>;
  const out: CheckClientBody = {};
  if (typeof o['clientId'] === 'string') out.clientId = o['clientId'];
  if (typeof o['group'] === 'string') out.group = o['group'];
  const sub = o['subscriptionData'];
  if (sub !== null && sub !== undefined) {
    if (typeof sub !== 'object' || Array.isArray(sub)) throw new BrokerError('SYSTEM_ERROR', 'CheckClientRequestBody.subscriptionData is not an object');
    const s = sub as Record<string, unknown>;
    const data: CheckedSubscription = {};
    if (typeof s['topic'] === 'string') data.topic = s['topic'];
    if (typeof s['expressionType'] === 'string') data.expressionType = s['expressionType'];
    if (typeof s['subString'] === 'string') data.subString = s['subString'];
    out.subscriptionData = data;
  }
  return out;
}
