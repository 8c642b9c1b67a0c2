import type { Context } from '../context.js';
import { UsageError } from '../args.js';
import { progressLines, progressTotals, table } from '../format.js';
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

interface OffsetMoves {
  groupName: string;
  queues: Array<{ topic: string; queueId: number; from: number; to: number }>;
}

function moveLines(verb: string, m: OffsetMoves): string[] {
  if (m.queues.length === 0) return [`group ${m.groupName}: no queue offsets to move`];
  return [
    `group ${m.groupName}: ${verb}`,
    ...table(
      ['TOPIC', 'QUEUE', 'FROM', 'TO'],
      m.queues.map((q) => [q.topic, q.queueId, q.from, q.to]),
    ),
  ];
}

/** Epoch ms from `--time`: epoch milliseconds or an ISO 8601 date-time. */
export function parseTime(value: string, path: readonly string[]): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new UsageError(`--time needs epoch milliseconds or an ISO 8601 time, not ${JSON.stringify(value)}`, path);
  return ms;
}

/** `group reset-offset GROUP --time T`: every queue to its first message stored at or after T. */
export const groupResetOffsetCommand: Command = {
  path: ['group', 'reset-offset'],
  args: ['GROUP'],
  summary: "move a consumer group's offsets back (or forward) to a time; the group must be offline (HTTP admin API)",
  options: [
    { name: 'time', kind: 'string', value: 'T', help: 'epoch ms or ISO 8601 (e.g. 2026-12-07T10:00:00Z): the first message stored at or after it' },
    { name: 'topic', kind: 'string', value: 'T', help: 'only this topic (default: every topic the group has offsets in, retry topics aside)' },
  ],
  async run(ctx, args) {
    const time = args.str('time');
    if (time === undefined) throw new UsageError('--time is required', ['group', 'reset-offset']);
    const topic = args.str('topic');
    const moved = await ctx.http().call<OffsetMoves>('POST', `/groups/${encodeURIComponent(args.positionals[0]!)}/reset-offset`, {
      timestamp: parseTime(time, ['group', 'reset-offset']),
      ...(topic === undefined ? {} : { topic }),
    });
    ctx.emit(moved, () => moveLines(`offsets reset to ${time}`, moved));
  },
};

/** `group skip-backlog GROUP`: every queue to its end (the lag becomes 0). */
export const groupSkipBacklogCommand: Command = {
  path: ['group', 'skip-backlog'],
  args: ['GROUP'],
  summary: "skip a consumer group's backlog: its offsets move to the queues' ends; the group must be offline (HTTP admin API)",
  options: [{ name: 'topic', kind: 'string', value: 'T', help: 'only this topic' }],
  async run(ctx, args) {
    const topic = args.str('topic');
    const moved = await ctx
      .http()
      .call<OffsetMoves>('POST', `/groups/${encodeURIComponent(args.positionals[0]!)}/skip-backlog`, topic === undefined ? {} : { topic });
    ctx.emit(moved, () => moveLines('backlog skipped', moved));
  },
};
