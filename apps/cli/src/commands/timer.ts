import type { Command } from './command.js';

/** `timer recall ID`: a pending timer message never fires (RocketMQ 5's RecallMessage). */
export const timerRecallCommand: Command = {
  path: ['timer', 'recall'],
  args: ['MSG_ID'],
  summary: 'recall a pending timer (scheduled) message by its client or offset message id, so it is never delivered (HTTP admin API)',
  options: [],
  notes: ['Fails with 404 when no timer message is pending under that id, 409 while it is being delivered.'],
  async run(ctx, args) {
    const id = args.positionals[0]!;
    const answer = await ctx.http().call<{ recalled: string }>('DELETE', `/timers/${encodeURIComponent(id)}`);
    ctx.emit(answer, () => `recalled timer message ${answer.recalled}`);
  },
};
