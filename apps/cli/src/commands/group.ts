import type { Context } from '../context.js';
import { progressLines, progressTotals } from '../format.js';
import type { Command } from './command.js';

/** `group progress GROUP`: per-queue broker offset, committed offset and lag. */
export const groupProgressCommand: Command = {
  path: ['group', 'progress'],
  args: ['GROUP'],
  summary: "show a consumer group's offsets and lag per queue",
  options: [{ name: 'topic', kind: 'list', value: 'T', help: 'only these topics (repeatable; default: every queue the group has offsets in)' }],
  async run(ctx: Context, args) {
    const group = args.positionals[0]!;
    const rows = await ctx.admin().groupProgress(group, args.list('topic'));
    ctx.emit({ group, queues: rows, totals: progressTotals(rows) }, () => progressLines(group, rows));
  },
};

/** `group consumers GROUP`: client ids of the group's online consumers. */
export const groupConsumersCommand: Command = {
  path: ['group', 'consumers'],
  args: ['GROUP'],
  summary: "list a consumer group's online clients",
  options: [],
  async run(ctx, args) {
    const group = args.positionals[0]!;
    const clients = await ctx.admin().consumerConnections(group);
    ctx.emit({ group, clients }, () => (clients.length === 0 ? [`group ${group}: no consumer online`] : clients));
  },
};
