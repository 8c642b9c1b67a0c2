import { type Message, Producer, type SendOptions } from '@apogee/client';
import { parseKeyValues, splitList } from '../args.js';
import { sendResultLine } from '../format.js';
import type { Command } from './command.js';

/** `send TOPIC BODY`: sends the body `--count` times, one SendResult line each. */
export const sendCommand: Command = {
  path: ['send'],
  args: ['TOPIC', 'BODY'],
  summary: 'send a message (BODY as UTF-8) and print each SendResult',
  options: [
    { name: 'tags', kind: 'string', value: 'T', help: 'message tag' },
    { name: 'keys', kind: 'string', value: 'K1,K2', help: 'business keys, comma-separated' },
    { name: 'prop', kind: 'list', value: 'K=V', help: 'user property (repeatable)' },
    { name: 'count', kind: 'int', value: 'N', min: 1, help: 'send N times (default 1)' },
    { name: 'delay-level', kind: 'int', value: 'L', min: 0, help: 'delay level 1..18 (1s 5s 10s 30s 1m …)' },
    { name: 'sharding-key', kind: 'string', value: 'K', help: 'ordered send: the queue is chosen by this key' },
    { name: 'group', kind: 'string', value: 'G', help: 'producer group (default apogee-cli-producer)' },
  ],
  async run(ctx, args) {
    const [topic, body] = args.positionals as [string, string];
    const msg: Message = { topic, body };
    const tags = args.str('tags');
    const keys = splitList(args.str('keys'));
    const props = parseKeyValues(args.list('prop'), 'prop', ['send']);
    const delayLevel = args.int('delay-level');
    if (tags !== undefined) msg.tags = tags;
    if (keys.length > 0) msg.keys = keys;
    if (Object.keys(props).length > 0) msg.properties = props;
    if (delayLevel !== undefined && delayLevel > 0) msg.delayLevel = delayLevel;
    const sendOpts: SendOptions = {};
    const shardingKey = args.str('sharding-key');
    if (shardingKey !== undefined) sendOpts.shardingKey = shardingKey;

    const producer = ctx.track(new Producer({ ...ctx.clientOptions, group: args.str('group') ?? 'apogee-cli-producer' }));
    await producer.start();
    const count = args.int('count') ?? 1;
    for (let i = 0; i < count && !ctx.signal.aborted; i++) {
      const r = await producer.send(msg, sendOpts);
      ctx.emit(r, () => sendResultLine(r));
    }
  },
};
