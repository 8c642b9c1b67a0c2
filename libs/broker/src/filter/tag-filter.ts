import { javaStringHashCode } from '@apogee/message';
import type { MessageFilter } from '@apogee/store';
import { BrokerError } from '../errors.js';

/** A parsed subscription (RocketMQ SubscriptionData, TAG expressions). */
export interface Subscription {
  topic: string;
  /** The expression as the client sent it. */
  subString: string;
  expressionType: 'TAG' | 'SQL92';
  /** Empty = every message ("*" or blank). */
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
}

/** Parses a tag expression: blank or `*` = all; else tags separated by `||` (FilterAPI). */
export function parseSubscription(topic: string, expression: string | undefined, expressionType = 'TAG', subVersion = Date.now()): Subscription {
  const type = (expressionType || 'TAG').toUpperCase();
  if (type === 'SQL92') {
    throw new BrokerError('SUBSCRIPTION_PARSE_FAILED', 'SQL92 filtering is not supported by this broker (enablePropertyFilter=false); use a TAG expression');
  }
  if (type !== 'TAG') throw new BrokerError('SUBSCRIPTION_PARSE_FAILED', `unknown expression type ${JSON.stringify(expressionType)}; use TAG`);
  const sub = (expression ?? '').trim();
  const tagsSet: string[] = [];
  if (sub !== '' && sub !== '*') {
    for (const t of sub.split('||')) {
      const tag = t.trim();
      if (tag.length > 0 && !tagsSet.includes(tag)) tagsSet.push(tag);
    }
    if (tagsSet.length === 0) throw new BrokerError('SUBSCRIPTION_PARSE_FAILED', `tag expression ${JSON.stringify(expression)} names no tag`);
  }
  return { topic, subString: sub === '' ? '*' : sub, expressionType: 'TAG', tagsSet, codeSet: tagsSet.map(javaStringHashCode), subVersion };
}

/** The store filter for a subscription, or undefined when it takes everything. */
export function tagFilterOf(sub: Subscription): MessageFilter | undefined {
  if (sub.codeSet.length === 0) return undefined;
  const codes = new Set(sub.codeSet);
  return { matchByTagsCode: (code) => codes.has(code) };
}
