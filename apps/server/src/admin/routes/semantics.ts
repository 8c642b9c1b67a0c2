import { ApiError } from '../api-error.js';
import { AdminAnswer, type AdminHandler } from '../context.js';
import { queryParam } from '../query-params.js';

/** GET /api/v1/transactions[?limit=N]: half messages waiting for a decision, oldest first. */
export const listOpenTransactions: AdminHandler = async (deps, req) => {
  const limit = queryParam.int(req.query, 'limit', 1000, 1, 100_000);
  const now = Date.now();
  const open = await deps.broker.openTransactions(limit);
  return { transactions: open.map((t) => ({ ...t, ageMs: Math.max(0, now - t.storeTimestamp) })) };
};

/**
 * DELETE /api/v1/timers/:id: recalls a pending timer message by its client message id (UNIQ_KEY)
 * or offset message id, so it never fires (RocketMQ 5's RecallMessage). 404 when none is pending
 * under that id; 409 while it is being fired.
 */
export const recallTimer: AdminHandler = async (deps, req) => {
  const id = req.params['id']!;
  const outcome = await deps.broker.timers.recall(id);
  if (outcome === 'NOT_FOUND') throw new ApiError('NOT_FOUND', `no pending timer message ${id}`);
  if (outcome === 'FIRING') throw new ApiError('CONFLICT', `timer message ${id} is being delivered right now`);
  return new AdminAnswer(200, { recalled: id });
};
