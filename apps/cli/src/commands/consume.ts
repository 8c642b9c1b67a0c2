import { setTimeout as sleep } from 'node:timers/promises';
import { type MessageQueue, PullConsumer } from '@apogee/client';
import { UsageError } from '../args.js';
import type { Context } from '../context.js';
import { messageLines, messageView } from '../format.js';
import type { Command } from './command.js';

/** Pause after a round in which no queue moved (the pulls do not long-poll). */
const IDLE_PAUSE_MS = 200;
const PULL_BATCH = 32;

interface Cursor {
  queue: MessageQueue;
  /** The group's committed offset when we started, −1 when none. */
  stored: number;
  next: number;
}

/**
 * `consume TOPIC`: pulls every readable queue round-robin from the group's committed offset (or
 * --from first|last when none), prints messages until --count or --timeout-ms, then commits how
 * far it got so `group progress` shows it.
 */
export const consumeCommand: Command = {
  path: ['consume'],
  args: ['TOPIC'],
  summary: 'pull messages from every queue of a topic and print them',
  options: [
    { name: 'group', kind: 'string', value: 'G', help: 'consumer group (default apogee-cli-<pid>)' },
    { name: 'expr', kind: 'string', value: 'EXPR', help: "tag expression, e.g. 'a || b' (default '*')" },
    { name: 'from', kind: 'string', value: 'first|last', help: 'where to start when the group has no offset (default first)' },
    { name: 'count', kind: 'int', value: 'N', min: 1, help: 'stop after N messages (default: no limit)' },
    { name: 'timeout-ms', kind: 'int', value: 'MS', min: 0, help: 'stop after this long (default 10000)' },
    { name: 'max-body', kind: 'int', value: 'BYTES', min: 0, help: 'print at most this many body bytes (default 1024, 0 = all)' },
  ],
  notes: ['Offsets are committed for the group when the command ends (also on Ctrl-C).'],
  async run(ctx, args) {
    const topic = args.positionals[0]!;
    const from = args.str('from') ?? 'first';
    if (from !== 'first' && from !== 'last') throw new UsageError(`--from must be first or last, got ${JSON.stringify(from)}`, ['consume']);
    const group = args.str('group') ?? `apogee-cli-${process.pid}`;
    const consumer = ctx.track(new PullConsumer({ ...ctx.clientOptions, group, persistOffsetMs: 3_600_000 }));
    await consumer.start();
    const cursors = await Promise.all(
      (await consumer.fetchSubscribeQueues(topic)).map(async (queue): Promise<Cursor> => {
        const stored = await consumer.fetchConsumeOffset(queue);
        const next = stored >= 0 ? stored : from === 'first' ? await consumer.minOffset(queue) : await consumer.maxOffset(queue);
        return { queue, stored, next };
      }),
    );
    const limits = { count: args.int('count') ?? Infinity, deadline: Date.now() + (args.int('timeout-ms') ?? 10_000), maxBody: args.int('max-body') ?? 1024 };
    let printed = 0;
    let failure: unknown;
    try {
      printed = await pullLoop(ctx, consumer, cursors, args.str('expr') ?? '*', limits);
    } catch (err) {
      failure = err;
    }
    const committed = await Promise.all(cursors.filter((c) => c.next !== c.stored).map((c) => consumer.commitOffset(c.queue, c.next))).then(
      () => undefined,
      (err: unknown) => err ?? new Error('commit failed'),
    );
    if (failure !== undefined) {
      if (committed !== undefined) ctx.note(`warning: offsets not committed: ${String(committed)}`);
      throw failure;
    }
    if (committed !== undefined) throw committed;
    ctx.note(`consumed ${printed} message(s) from ${topic} as group ${group}`);
  },
};

async function pullLoop(
  ctx: Context,
  consumer: PullConsumer,
  cursors: Cursor[],
  expr: string,
  limits: { count: number; deadline: number; maxBody: number },
): Promise<number> {
  let printed = 0;
  const done = () => printed >= limits.count || ctx.signal.aborted || Date.now() >= limits.deadline;
  while (!done()) {
    let moved = false;
    for (const c of cursors) {
      if (done()) break;
      const r = await consumer.pull(c.queue, expr, c.next, Math.min(PULL_BATCH, limits.count - printed));
      const take = r.messages.slice(0, limits.count - printed);
      for (const m of take) {
        const v = messageView(m, limits.maxBody);
        ctx.emit(v, () => [...(printed > 0 ? [''] : []), ...messageLines(v)]);
        printed++;
      }
      // Stop right after the last printed message when the batch was cut short by --count.
      const next = take.length < r.messages.length ? take[take.length - 1]!.queueOffset + 1 : r.nextBeginOffset;
      if (next !== c.next) moved = true;
      c.next = next;
    }
    if (!moved && !done())
      await sleep(Math.min(IDLE_PAUSE_MS, Math.max(0, limits.deadline - Date.now())), undefined, { signal: ctx.signal }).catch(() => undefined);
  }
  return printed;
}
