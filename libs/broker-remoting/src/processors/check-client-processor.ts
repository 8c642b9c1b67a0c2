import { compileSql92 } from '@apogee/broker';
import { ResponseCode, responseTo } from '@apogee/remoting';
import { parseCheckClientBody } from '../headers/check-client-body.js';
import type { Processor } from './context.js';

/**
 * Expression types besides TAG the broker filters by, each with its compile step (RocketMQ's
 * FilterFactory, consulted only when enablePropertyFilter is on; a compile error is answered
 * SUBSCRIPTION_PARSE_FAILED with its message). Types are matched exactly, as RocketMQ does.
 */
const PROPERTY_FILTERS: ReadonlyMap<string, (expression: string) => void> = new Map([['SQL92', (e: string) => void compileSql92(e)]]);

/** ExpressionType.isTagType: absent, "" and "TAG" (exactly) are tag expressions. */
const isTagType = (type: string | undefined): boolean => type === undefined || type === '' || type === 'TAG';

/**
 * CHECK_CLIENT_CONFIG (46), as RocketMQ's ClientManageProcessor.checkClientConfig answers it: SUCCESS
 * for no subscription or a TAG one; for another type, SYSTEM_ERROR "The broker does not support
 * consumer to filter message by <type>" while the broker cannot filter by it (the Java push
 * consumer's start() then fails), else SUBSCRIPTION_PARSE_FAILED when the expression does not compile.
 */
export const checkClientConfig: Processor = (ctx, req) => {
  const sub = parseCheckClientBody(req.body)?.subscriptionData;
  if (!sub || isTagType(sub.expressionType)) return responseTo(req, ResponseCode.SUCCESS);
  const type = sub.expressionType!;
  const compile = ctx.broker.config.enablePropertyFilter ? PROPERTY_FILTERS.get(type) : undefined;
  if (!compile) return responseTo(req, ResponseCode.SYSTEM_ERROR, `The broker does not support consumer to filter message by ${type}`);
  try {
    compile(sub.subString ?? '');
  } catch (err) {
    return responseTo(req, ResponseCode.SUBSCRIPTION_PARSE_FAILED, (err as Error).message);
  }
  return responseTo(req, ResponseCode.SUCCESS);
};
