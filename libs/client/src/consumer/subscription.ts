import { javaStringHashCode } from '@apogee/message';

/** A topic subscription with a tag expression (FilterAPI.buildSubscriptionData, facts §7). */
export interface Subscription {
  topic: string;
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

/** `null`/""/"*" select all; else tags split on "||", trimmed, empties dropped. */
export function buildSubscription(topic: string, expression: string | undefined, subVersion: number = Date.now()): Subscription {
  const expr = expression === undefined || expression.trim() === '' ? '*' : expression.trim();
  if (expr === '*') return { topic, expression: '*', all: true, tagsSet: [], codeSet: [], subVersion };
  const tagsSet = [
    ...new Set(
      expr
        .split('||')
        .map((t) => t.trim())
        .filter((t) => t.length > 0),
    ),
  ];
  if (tagsSet.length === 0) return { topic, expression: '*', all: true, tagsSet: [], codeSet: [], subVersion };
  return { topic, expression: expr, all: false, tagsSet, codeSet: tagsSet.map(javaStringHashCode), subVersion };
}

/**
 * Client-side re-check of a pulled message's tag (the broker only compares hash codes, which
 * collide). Like the Java client, an untagged message does not match a tag expression.
 */
export function matchesTags(sub: Subscription, tags: string | undefined): boolean {
  return sub.all || (tags !== undefined && sub.tagsSet.includes(tags));
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
    expressionType: 'TAG',
  };
}
