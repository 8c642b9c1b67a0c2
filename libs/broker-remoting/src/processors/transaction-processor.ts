import { ResponseCode, isOneway, optionalInt, responseTo } from '@apogee/remoting';
import { openTransactionsBody, readEndTransactionHeader } from '../headers/transaction-headers.js';
import type { Processor } from './context.js';

/**
 * END_TRANSACTION (37). The Java client sends it oneway (the transport then writes no answer,
 * whatever this returns); a two-way caller gets SUCCESS, or the engine's refusal through the
 * error table (SYSTEM_ERROR with RocketMQ's remarks, ILLEGAL_OPERATION 604 past the check
 * immunity). UNKNOW changes nothing (RocketMQ answers nothing at all; a two-way caller here gets
 * SUCCESS with a remark saying so). On a replica: SLAVE_NOT_AVAILABLE.
 */
export const endTransaction: Processor = (ctx, req) => {
  // A replica's decision would not reach its master's log (RocketMQ answers a slave's the same way).
  if (ctx.broker.role === 'replica')
    return isOneway(req) ? null : responseTo(req, ResponseCode.SLAVE_NOT_AVAILABLE, 'this broker is a replica: end the transaction on its master');
  const done = ctx.broker.endTransaction(readEndTransactionHeader(req.extFields, req.remark));
  // The usual (oneway) case builds no response; a refusal still reaches the refusal log.
  if (isOneway(req)) return done.then(() => null);
  return done.then((outcome) => responseTo(req, ResponseCode.SUCCESS, outcome === 'unchanged' ? 'transaction state unknown: nothing changed' : undefined));
};

/** Largest listing one request returns. */
const MAX_LISTED = 10_000;

/**
 * APOGEE_LIST_OPEN_TRANSACTIONS: the half messages waiting for a decision, oldest first, as
 * `{"transactions":[OpenTransaction…]}`; header `max` (default 1,000, at most 10,000).
 */
export const listOpenTransactions: Processor = async (ctx, req) => {
  const max = Math.min(MAX_LISTED, Math.max(1, optionalInt(req.extFields, 'max') ?? 1000));
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, openTransactionsBody(await ctx.broker.openTransactions(max)));
};
