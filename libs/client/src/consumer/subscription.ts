import { javaStringHashCode } from '@apogee/message';

/**
 * How a subscription selects messages: a tag expression as a string ("*", "a", "a || b"), or an
 * SQL92 expression over message properties (`MessageSelector.bySql("a > 5 AND TAGS = 'x'")`),
 * which the broker filters by (RocketMQ's MessageSelector).
 */
export type MessageSelector = string | { readonly type: 'TAG' | 'SQL92'; readonly expression: string };

/** Builders for MessageSelector, named as in RocketMQ's Java client. */
export const MessageSelector = {
  /** An SQL92 expression over properties (TAGS, KEYS and user properties by name). */
  bySql: (expression: string): MessageSelector => ({ type: 'SQL92', expression }),
  /** A tag expression ("*", "a || b"). */
  byTag: (expression: string): MessageSelector => ({ type: 'TAG', expression }),
};

/** A topic subscription (FilterAPI.buildSubscriptionData, facts §7). */
export interface Subscription {
  topic: string;
  /** TAG, or SQL92 (filtered on the broker alone). */
  expressionType: 'TAG' | 'SQL92';
  /** The expression as given; "*" means every tag. */
  expression: string;
  /** True when the expression selects every message. */
  all: boolean;
  tagsSet: string[];
  /** Java hashCodes of tagsSet, matched by the broker against consume-queue tags codes. */
  codeSet: number[];
  /** Version the broker compares to reject stale pull subscriptions; ms time like Java. */
  subVersion: number;
}

/**
 * Tags: `null`/""/"*" select all; else tags split on "||", trimmed, empties dropped. SQL92: the
 * expression as given (the broker compiles it; an empty one is refused there).
 */
export function buildSubscription(topic: string, selector: MessageSelector | undefined, subVersion: number = Date.now()): Subscription {
  if (typeof selector === 'object' && selector.type === 'SQL92') {
    return { topic, expressionType: 'SQL92', expression: selector.expression, all: false, tagsSet: [], codeSet: [], subVersion };
  }
  const expression = typeof selector === 'object' ? selector.expression : selector;
  const expr = expression === undefined || expression.trim() === '' ? '*' : expression.trim();
  if (expr === '*') return { topic, expressionType: 'TAG', expression: '*', all: true, tagsSet: [], codeSet: [], subVersion };
  const tagsSet = [
    ...new Set(
      expr
        .split('||')
        .map((t) => t.trim())
        .filter((t) => t.length > 0),
    ),
  ];
  if (tagsSet.length === 0) return { topic, expressionType: 'TAG', expression: '*', all: true, tagsSet: [], codeSet: [], subVersion };
  return { topic, expressionType: 'TAG', expression: expr, all: false, tagsSet, codeSet: tagsSet.map(javaStringHashCode), subVersion };
}

/**
 * Client-side re-check of a pulled message's tag (the broker only compares hash codes, which
 * collide). Like the Java client, an untagged message does not match a tag expression; SQL92
 * subscriptions are filtered by the broker alone.
 */
export function matchesTags(sub: Subscription, tags: string | undefined): boolean {
  return sub.all || sub.expressionType === 'SQL92' || (tags !== undefined && sub.tagsSet.includes(tags));
}

/** SubscriptionData as the heartbeat carries it. */
export function subscriptionData(sub: Subscription): Record<string, unknown> {
  return {
    classFilterMode: false,
    topic: sub.topic,
    subString: sub.expression,
    tagsSet: sub.tagsSet,
    codeSet: sub.codeSet,
    subVersion: sub.subVersion,
    expressionType: sub.expressionType,
  };
}
