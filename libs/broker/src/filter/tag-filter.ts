import { javaStringHashCode } from '@apogee/message';
import type { MessageFilter } from '@apogee/store';
import { BrokerError } from '../errors.js';
import { type Sql92Filter, compileSql92, sql92MessageFilter } from './sql92/index.js';

/** A parsed subscription (RocketMQ SubscriptionData: TAG or SQL92 expressions). */
export interface Subscription {
  topic: string;
  /** The expression as the client sent it. */
  subString: string;
  expressionType: 'TAG' | 'SQL92';
  /** Empty = every message ("*" or blank). */
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
  /** SQL92: the expression compiled once, applied to every record read for the subscription. */
  sql?: Sql92Filter;
  /** Why a heartbeat's expression did not compile: pulls by this subscription are refused with it. */
  parseError?: string;
}

/**
 * Parses a subscription. TAG: blank or `*` = all; else tags separated by `||` (FilterAPI).
 * SQL92: compiled at once; an expression that does not compile is SUBSCRIPTION_PARSE_FAILED with
 * the compiler's message (column and what was expected).
 */
export function parseSubscription(topic: string, expression: string | undefined, expressionType = 'TAG', subVersion = Date.now()): Subscription {
  const type = (expressionType || 'TAG').toUpperCase();
  if (type === 'SQL92') {
    const text = expression ?? '';
    return { topic, subString: text, expressionType: 'SQL92', tagsSet: [], codeSet: [], subVersion, sql: compileSql92OrRefuse(text) };
  }
  if (type !== 'TAG') throw new BrokerError('SUBSCRIPTION_PARSE_FAILED', `unknown expression type ${JSON.stringify(expressionType)}; use TAG or SQL92`);
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

/** Compiles an SQL92 expression; a syntax error becomes SUBSCRIPTION_PARSE_FAILED naming where it is. */
function compileSql92OrRefuse(expression: string): Sql92Filter {
  try {
    return compileSql92(expression);
  } catch (err) {
    throw new BrokerError('SUBSCRIPTION_PARSE_FAILED', `parse the consumer's subscription failed: ${(err as Error).message}`);
  }
}

/** The store filter for a subscription, or undefined when it takes everything. */
export function tagFilterOf(sub: Subscription): MessageFilter | undefined {
  if (sub.sql) return sql92MessageFilter(sub.sql);
  if (sub.codeSet.length === 0) return undefined;
  const codes = new Set(sub.codeSet);
  return { matchByTagsCode: (code) => codes.has(code) };
}
