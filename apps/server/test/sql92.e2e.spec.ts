/**
 * SQL92 property filters against a real apps/server process: @apogee/client's push consumer
 * (heartbeat-registered filter) and pull consumer (filter posted with the pull), the unmodified
 * ali-ons client, and bad expressions answered SUBSCRIPTION_PARSE_FAILED with where the error is.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MessageSelector, Producer, PullConsumer, PushConsumer, type ReceivedMessage } from '@apogee/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, eventually } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const require = createRequire(import.meta.url);
const { Consumer: OnsConsumer } = require('ali-ons') as any;
const httpclient = { request: () => Promise.reject(new Error('ali-ons must not use HTTP here')) };

/** Matches idx ≥ 5 with color red, and the sentinels that mark the end of each queue. */
const FILTER = "(idx >= 5 AND color = 'red') OR sentinel = 'yes'";
/** What FILTER selects of the messages `sendMixed` sends. */
const EXPECTED = ['m6', 'm8'];

let server: ServerProcess;
let dataDir: string;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dataDir = tempDataDir('apg-sql92-');
  server = await ServerProcess.start(path.join(dataDir, 'data'));
});

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {});
});

afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const topic = (name: string): Promise<void> => createTopic(server.brokerAddr, server.namesrvAddr, name, 2);

/**
 * Ten messages: idx 0..9; color red on even ones, blue on odd ones, none on idx 4 and 9 (so
 * `color = 'red'` is unknown there); idx "x" on m7 (not a number: never matched by `idx >= 5`).
 */
async function sendMixed(p: Producer, t: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const properties: Record<string, string> = { idx: i === 7 ? 'x' : String(i) };
    if (i !== 4 && i !== 9) properties['color'] = i % 2 === 0 ? 'red' : 'blue';
    await p.send({ topic: t, body: `m${i}`, tags: 'T', properties });
  }
}

async function sendSentinels(p: Producer, t: string): Promise<void> {
  for (let q = 0; q < 2; q++)
    await p.send({ topic: t, body: 'sentinel', properties: { sentinel: 'yes' } }, { queue: { topic: t, brokerName: 'broker-a', queueId: q } });
}

async function producer(): Promise<Producer> {
  const p = new Producer({ nameServer: server.namesrvAddr, group: 'sql-p' });
  await p.start();
  closers.push(() => p.shutdown());
  return p;
}

const bodies = (msgs: Array<{ body: Buffer }>): string[] =>
  msgs
    .map((m) => m.body.toString())
    .filter((b) => b !== 'sentinel')
    .sort();

describe('SQL92 filters', () => {
  it('a push consumer subscribed by SQL92 gets exactly the matching messages (three-valued logic, numeric coercion)', async () => {
    await topic('SqlPush');
    const p = await producer();
    await sendMixed(p, 'SqlPush');
    const got: ReceivedMessage[] = [];
    const c = new PushConsumer({ nameServer: server.namesrvAddr, group: 'sql-push', consumeFromWhere: 'FIRST', rebalanceMs: 1000 });
    c.on('error', () => {});
    c.subscribe('SqlPush', MessageSelector.bySql(FILTER));
    await c.start((msgs) => void got.push(...msgs));
    closers.push(() => c.shutdown());
    await sendSentinels(p, 'SqlPush');
    await eventually(() => got.filter((m) => m.body.toString() === 'sentinel').length === 2, 'both sentinels');
    expect(bodies(got)).toEqual(EXPECTED);
    expect(got.find((m) => m.body.toString() === 'm6')?.properties['color']).toBe('red');
  });

  it('a pull posting its SQL92 subscription is filtered on the broker; a bad expression is refused with its column', async () => {
    await topic('SqlPull');
    const p = await producer();
    await sendMixed(p, 'SqlPull');
    await sendSentinels(p, 'SqlPull');
    const pull = new PullConsumer({ nameServer: server.namesrvAddr, group: 'sql-pull' });
    await pull.start();
    closers.push(() => pull.shutdown());
    const got: ReceivedMessage[] = [];
    for (const q of await pull.fetchSubscribeQueues('SqlPull')) {
      let offset = 0;
      for (let i = 0; i < 50; i++) {
        const r = await pull.pull(q, MessageSelector.bySql(FILTER), offset, 32);
        got.push(...r.messages);
        if (r.nextBeginOffset === offset || r.nextBeginOffset >= r.maxOffset) break;
        offset = r.nextBeginOffset;
      }
    }
    expect(bodies(got)).toEqual(EXPECTED);
    expect(got.filter((m) => m.body.toString() === 'sentinel')).toHaveLength(2);

    const [q] = await pull.fetchSubscribeQueues('SqlPull');
    for (const [bad, where] of [
      ['idx >', /column 6/],
      ["color = 'red' AND", /column 18/],
      ['color IN (1, 2)', /column/],
      ['a = NULL', /IS NULL/],
    ] as const) {
      const err = await pull.pull(q!, MessageSelector.bySql(bad), 0, 32).then(
        () => null,
        (e: unknown) => e as Error & { responseCode?: number },
      );
      expect(err, bad).not.toBeNull();
      expect(err!.responseCode, bad).toBe(23); // SUBSCRIPTION_PARSE_FAILED
      expect(err!.message, bad).toMatch(/parse the consumer's subscription failed/);
      expect(err!.message, bad).toMatch(where);
    }
  });

  it('ali-ons subscribed with expressionType SQL92 gets exactly the matching messages', async () => {
    await topic('SqlOns');
    const p = await producer();
    await sendMixed(p, 'SqlOns');
    const got: Array<{ body: Buffer }> = [];
    const c = new OnsConsumer({
      httpclient,
      nameSrv: server.namesrvAddr,
      consumerGroup: 'sql-ons',
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      rebalanceInterval: 1000,
    });
    c.on('error', () => {});
    c.subscribe('SqlOns', { expressionType: 'SQL92', subString: FILTER }, async (msg: any) => void got.push({ body: msg.body }));
    closers.push(() => c.close());
    await c.ready();
    await sendSentinels(p, 'SqlOns');
    await eventually(() => got.filter((m) => m.body.toString() === 'sentinel').length === 2, 'both sentinels', 30_000);
    expect(bodies(got)).toEqual(EXPECTED);
  });
});
