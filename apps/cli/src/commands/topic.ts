import type { CreateTopicOptions } from '@apogee/client';
import { Perm } from '@apogee/message';
import { type ParsedArgs, UsageError } from '../args.js';
import { permString, table } from '../format.js';
import type { Command } from './command.js';

/** `topic create NAME`: UPDATE_AND_CREATE_TOPIC on every master (or one cluster / one broker). */
export const topicCreateCommand: Command = {
  path: ['topic', 'create'],
  args: ['NAME'],
  summary: 'create or update a topic on every master broker',
  options: [
    { name: 'queues', kind: 'int', value: 'N', min: 1, help: 'read and write queue count (default 8)' },
    { name: 'read-queues', kind: 'int', value: 'N', min: 1, help: 'read queue count (with --write-queues)' },
    { name: 'write-queues', kind: 'int', value: 'N', min: 1, help: 'write queue count (with --read-queues)' },
    { name: 'perm', kind: 'int', value: 'P', min: 0, help: 'permission bits: 4 read, 2 write (default 6)' },
    { name: 'order', kind: 'flag', help: 'mark the topic as ordered' },
    { name: 'cluster', kind: 'string', value: 'NAME', help: 'only the masters of this cluster' },
    { name: 'broker', kind: 'string', value: 'HOST:PORT', help: 'only this broker' },
  ],
  async run(ctx, args) {
    const topic = args.positionals[0]!;
    const opts = createOptions(args);
    const brokers = await ctx.admin().createTopic(topic, opts);
    ctx.emit(
      { topic, ...opts, brokers },
      () =>
        `created ${topic} (read ${opts.readQueueNums}, write ${opts.writeQueueNums}, perm ${permString(opts.perm!)}${opts.order ? ', ordered' : ''}) on ${brokers.join(', ')}`,
    );
  },
};

function createOptions(args: ParsedArgs): CreateTopicOptions {
  const queues = args.int('queues');
  const read = args.int('read-queues');
  const write = args.int('write-queues');
  if (queues !== undefined && (read !== undefined || write !== undefined))
    throw new UsageError('use either --queues or --read-queues/--write-queues', ['topic', 'create']);
  if ((read === undefined) !== (write === undefined)) throw new UsageError('--read-queues and --write-queues go together', ['topic', 'create']);
  const opts: CreateTopicOptions = {
    readQueueNums: read ?? queues ?? 8,
    writeQueueNums: write ?? queues ?? 8,
    perm: args.int('perm') ?? Perm.READ | Perm.WRITE,
    order: args.flag('order'),
  };
  const cluster = args.str('cluster');
  const broker = args.str('broker');
  if (cluster !== undefined) opts.cluster = cluster;
  if (broker !== undefined) opts.brokerAddr = broker;
  return opts;
}

/** `topic list`: every topic the NameServer routes. */
export const topicListCommand: Command = {
  path: ['topic', 'list'],
  args: [],
  summary: 'list the topics the NameServer knows',
  options: [],
  async run(ctx) {
    const topics = (await ctx.admin().listTopics()).sort();
    ctx.emit({ topics }, () => topics);
  },
};

/** `topic describe NAME`: route and per-queue min/max offsets. */
export const topicDescribeCommand: Command = {
  path: ['topic', 'describe'],
  args: ['NAME'],
  summary: "show a topic's route and the min/max offset of each queue",
  options: [],
  async run(ctx, args) {
    const d = await ctx.admin().describeTopic(args.positionals[0]!);
    ctx.emit(d, () => {
      const addrs = new Map(d.route.brokerDatas.map((bd) => [bd.brokerName, bd]));
      const routeRows = d.route.queueDatas.map((q) => {
        const bd = addrs.get(q.brokerName);
        return [q.brokerName, bd?.cluster ?? '-', bd?.brokerAddrs['0'] ?? '-', q.readQueueNums, q.writeQueueNums, `${permString(q.perm)} (${q.perm})`];
      });
      return [
        `topic ${d.topic}${d.route.orderTopicConf ? `  orderTopicConf ${d.route.orderTopicConf}` : ''}`,
        ...table(['BROKER', 'CLUSTER', 'MASTER', 'READ', 'WRITE', 'PERM'], routeRows),
        '',
        ...table(
          ['BROKER', 'QUEUE', 'MIN_OFFSET', 'MAX_OFFSET', 'MESSAGES'],
          d.queues.map((q) => [q.brokerName, q.queueId, q.minOffset, q.maxOffset, q.maxOffset - q.minOffset]),
        ),
      ];
    });
  },
};
