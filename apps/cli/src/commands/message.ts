import type { MessageTraceOptions, QueryOptions, ReceivedMessage } from '@apogee/client';
import type { OptionSpec } from '../args.js';
import type { Context } from '../context.js';
import { messageLines, messageView } from '../format.js';
import { traceLines } from '../trace-format.js';
import type { Command } from './command.js';

const maxBody: OptionSpec = { name: 'max-body', kind: 'int', value: 'BYTES', min: 0, help: 'print at most this many body bytes (default 1024, 0 = all)' };

function printMessages(ctx: Context, msgs: readonly ReceivedMessage[], limit: number): void {
  const views = msgs.map((m) => messageView(m, limit));
  ctx.emit({ messages: views }, () => (views.length === 0 ? ['no message found'] : views.flatMap((v, i) => [...(i > 0 ? [''] : []), ...messageLines(v)])));
}

/** `message get OFFSET_MSG_ID`: VIEW_MESSAGE_BY_ID at the store host the id encodes. */
export const messageGetCommand: Command = {
  path: ['message', 'get'],
  args: ['OFFSET_MSG_ID'],
  summary: 'show a message by its offset message id',
  options: [maxBody],
  async run(ctx, args) {
    const m = await ctx.admin().viewMessage(args.positionals[0]!);
    const v = messageView(m, args.int('max-body') ?? 1024);
    ctx.emit(v, () => messageLines(v));
  },
};

/** `message key TOPIC KEY`: QUERY_MESSAGE by business key. */
export const messageKeyCommand: Command = {
  path: ['message', 'key'],
  args: ['TOPIC', 'KEY'],
  summary: 'find messages of a topic by key',
  options: [
    { name: 'begin', kind: 'int', value: 'MS', min: 0, help: 'stored at or after this epoch ms (default 0)' },
    { name: 'end', kind: 'int', value: 'MS', min: 0, help: 'stored before this epoch ms (default now + 1 min)' },
    { name: 'max', kind: 'int', value: 'N', min: 1, help: 'at most N per broker (default 32)' },
    maxBody,
  ],
  async run(ctx, args) {
    const [topic, key] = args.positionals as [string, string];
    const opts: QueryOptions = {};
    const begin = args.int('begin');
    const end = args.int('end');
    const max = args.int('max');
    if (begin !== undefined) opts.begin = begin;
    if (end !== undefined) opts.end = end;
    if (max !== undefined) opts.maxNum = max;
    printMessages(ctx, await ctx.admin().queryMessageByKey(topic, key, opts), args.int('max-body') ?? 1024);
  },
};

/** `message uniq TOPIC UNIQ_KEY`: QUERY_MESSAGE by the producer's message id. */
export const messageUniqCommand: Command = {
  path: ['message', 'uniq'],
  args: ['TOPIC', 'UNIQ_KEY'],
  summary: "find a message by its unique key (the producer's msgId)",
  options: [maxBody],
  async run(ctx, args) {
    const [topic, uniq] = args.positionals as [string, string];
    printMessages(ctx, await ctx.admin().queryMessageByUniqKey(topic, uniq), args.int('max-body') ?? 1024);
  },
};

/** `message trace MSG_ID`: the message's timeline (docs/trace.md). */
export const messageTraceCommand: Command = {
  path: ['message', 'trace'],
  args: ['MSG_ID'],
  summary: 'show the trace of a message: publish, store, deliveries, consume results, retries, dead letter',
  options: [
    { name: 'topic', kind: 'string', value: 'TOPIC', help: "the message's topic (needed for a unique key no trace record names)" },
    { name: 'trace-topic', kind: 'string', value: 'TOPIC', help: 'the clients’ trace topic (default RMQ_SYS_TRACE_TOPIC)' },
  ],
  async run(ctx, args) {
    const opts: MessageTraceOptions = {};
    const topic = args.str('topic');
    const traceTopic = args.str('trace-topic');
    if (topic !== undefined) opts.topic = topic;
    if (traceTopic !== undefined) opts.traceTopic = traceTopic;
    const trace = await ctx.admin().queryMessageTrace(args.positionals[0]!, opts);
    ctx.emit(trace, () => traceLines(trace));
  },
};
