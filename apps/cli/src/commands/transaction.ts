import type { Context } from '../context.js';
import { transactionLines } from '../format.js';
import type { Command } from './command.js';

/** `transaction list`: half messages waiting for their producer's decision (APOGEE_LIST_OPEN_TRANSACTIONS 30037). */
export const transactionListCommand: Command = {
  path: ['transaction', 'list'],
  args: [],
  summary: 'list open transactions (half messages without a decision) on every master',
  options: [
    { name: 'broker', kind: 'string', value: 'ADDR', help: 'only this broker (default: every master)' },
    { name: 'max', kind: 'int', value: 'N', min: 1, help: 'at most N per broker (default 1000)' },
  ],
  notes: ['Apogee brokers only: Apache RocketMQ has no request for it (REQUEST_CODE_NOT_SUPPORTED).'],
  async run(ctx: Context, args) {
    const opts: { max?: number; brokerAddr?: string } = {};
    const max = args.int('max');
    const broker = args.str('broker');
    if (max !== undefined) opts.max = max;
    if (broker !== undefined) opts.brokerAddr = broker;
    const list = await ctx.admin().openTransactions(opts);
    const now = Date.now();
    ctx.emit({ transactions: list }, () => transactionLines(list, now));
  },
};
