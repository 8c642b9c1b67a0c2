/**
 * The unmodified npm client ali-ons 3.12.0 against a real apps/server process: what an application
 * written for RocketMQ sees after changing only the NameServer address.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, eventually } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const require = createRequire(import.meta.url);
const { Producer, Consumer, Message } = require('ali-ons') as any;

/** ali-ons asserts an HTTP client even when given a NameServer address; it is never called. */
const httpclient = { request: () => Promise.reject(new Error('ali-ons must not use HTTP here')) };
const FAST = { rebalanceInterval: 1000, persistConsumerOffsetInterval: 1000 };

let server: ServerProcess;
let dataDir: string;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dataDir = tempDataDir('apg-ons-');
  const cfg = path.join(dataDir, 'apogee.json');
  // Short delay levels so redelivery after a failure takes milliseconds, not RocketMQ's 10 s.
  fs.writeFileSync(cfg, JSON.stringify({ broker: { messageDelayLevel: '100ms 200ms 300ms 400ms 500ms 600ms 700ms 800ms' } }));
  server = await ServerProcess.start(path.join(dataDir, 'data'), undefined, ['--config', cfg]);
});

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {});
});

afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function producer(group: string): any {
  const p = new Producer({ httpclient, nameSrv: server.namesrvAddr, producerGroup: group });
  closers.push(() => p.close());
  return p;
}

interface Received {
  body: Buffer;
  tags: string;
  keys: string;
  properties: Record<string, string>;
  reconsumeTimes: number;
  queueId: number;
  msgId: string;
}

function consumer(
  group: string,
  topic: string,
  expression: string,
  onMessage: (m: Received) => void | Promise<void>,
  extra: Record<string, unknown> = {},
): any {
  const c = new Consumer({ httpclient, nameSrv: server.namesrvAddr, consumerGroup: group, ...FAST, ...extra });
  c.on('error', () => {});
  c.subscribe(topic, expression, async (msg: any) => {
    await onMessage({
      body: msg.body,
      tags: msg.tags,
      keys: msg.keys,
      properties: msg.properties,
      reconsumeTimes: msg.reconsumeTimes,
      queueId: msg.queueId,
      msgId: msg.msgId,
    });
  });
  closers.push(() => c.close());
  return c;
}

describe('ali-ons against apps/server', () => {
  it('delivers exactly the messages matching a tag expression, with body, tags, keys and properties intact', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'OnsTags');
    const p = producer('ons-p1');
    await p.ready();
    for (let i = 0; i < 10; i++) {
      const m = new Message('OnsTags', i % 2 === 0 ? 'TagA' : 'TagB', `body-${i}`);
      m.keys = [`key-${i}`, `order-${i}`];
      m.properties['region'] = `r${i}`;
      const res = await p.send(m);
      expect(res.sendStatus).toBe('SEND_OK');
      expect(res.msgId).toMatch(/^[0-9A-F]{32}$/);
    }
    const got: Received[] = [];
    const c = consumer('ons-c1', 'OnsTags', 'TagA', (m) => void got.push(m));
    await c.ready();
    await eventually(() => got.length >= 5, '5 TagA messages');
    // A tagged sentinel after the others: once it is in, every earlier TagB had its chance to leak.
    const sentinel = new Message('OnsTags', 'TagA', 'sentinel');
    for (let q = 0; q < 4; q++) await p.send(sentinel);
    await eventually(() => got.filter((m) => m.body.toString() === 'sentinel').length === 4, 'sentinels on every queue');
    const real = got.filter((m) => m.body.toString() !== 'sentinel');
    expect(real.map((m) => m.body.toString()).sort()).toEqual(['body-0', 'body-2', 'body-4', 'body-6', 'body-8']);
    for (const m of real) {
      const i = Number(m.body.toString().slice(5));
      expect(m.tags).toBe('TagA');
      expect(m.keys).toBe(`key-${i} order-${i}`);
      expect(m.properties['region']).toBe(`r${i}`);
      expect(m.reconsumeTimes).toBe(0);
    }
  });

  it('resumes a restarted consumer from its committed offsets', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'OnsResume');
    const p = producer('ons-p2');
    await p.ready();
    for (let i = 0; i < 8; i++) await p.send(new Message('OnsResume', 'T', `first-${i}`));
    const first: string[] = [];
    const c1 = consumer('ons-c2', 'OnsResume', '*', (m) => void first.push(m.body.toString()));
    await c1.ready();
    await eventually(() => first.length >= 8, 'the first 8 messages');
    await c1.close();
    for (let i = 0; i < 8; i++) await p.send(new Message('OnsResume', 'T', `second-${i}`));
    const second: string[] = [];
    const c2 = consumer('ons-c2', 'OnsResume', '*', (m) => void second.push(m.body.toString()));
    await c2.ready();
    await eventually(() => second.filter((b) => b.startsWith('second-')).length >= 8, 'the second 8 messages');
    expect(new Set(second)).toEqual(new Set(Array.from({ length: 8 }, (_, i) => `second-${i}`)));
  });

  it('redelivers a message whose listener failed, with its reconsume count', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'OnsRetry', 2);
    const p = producer('ons-p3');
    await p.ready();
    const seen: Received[] = [];
    const c = consumer('ons-c3', 'OnsRetry', '*', (m) => {
      seen.push(m);
      if (m.reconsumeTimes < 2) throw new Error('not yet');
    });
    await c.ready();
    await p.send(new Message('OnsRetry', 'T', 'flaky'));
    await eventually(() => seen.some((m) => m.reconsumeTimes === 2), 'the second redelivery');
    expect(seen.map((m) => m.reconsumeTimes)).toEqual([0, 1, 2]);
    for (const m of seen) expect(m.body.toString()).toBe('flaky');
  });

  it('splits the queues between two consumers of one group, which together get everything', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'OnsSplit', 4);
    const a: Received[] = [];
    const b: Received[] = [];
    const ca = consumer('ons-c4', 'OnsSplit', '*', (m) => void a.push(m), { instanceName: 'A' });
    await ca.ready();
    const cb = consumer('ons-c4', 'OnsSplit', '*', (m) => void b.push(m), { instanceName: 'B' });
    await cb.ready();
    const queuesOf = (c: any): string[] => [...c.processQueueTable.keys()].filter((k: string) => k.includes('"OnsSplit"'));
    await eventually(() => queuesOf(ca).length === 2 && queuesOf(cb).length === 2, 'an even split of 4 queues');
    expect(new Set([...queuesOf(ca), ...queuesOf(cb)]).size).toBe(4);
    const p = producer('ons-p4');
    await p.ready();
    for (let i = 0; i < 40; i++) await p.send(new Message('OnsSplit', 'T', `m${i}`));
    await eventually(() => new Set([...a, ...b].map((m) => m.body.toString())).size === 40, 'all 40 messages');
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    const qa = new Set(a.map((m) => m.queueId));
    for (const m of b) expect(qa.has(m.queueId)).toBe(false);
  });

  it('round-trips a 1 MiB body byte-exact (compressed on the wire by ali-ons)', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'OnsBig', 1);
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    const p = producer('ons-p5');
    await p.ready();
    expect((await p.send(new Message('OnsBig', 'Big', body))).sendStatus).toBe('SEND_OK');
    const got: Received[] = [];
    const c = consumer('ons-c5', 'OnsBig', '*', (m) => void got.push(m));
    await c.ready();
    await eventually(() => got.length >= 1, 'the 1 MiB message');
    expect(got[0]!.body.length).toBe(body.length);
    expect(got[0]!.body.equals(body)).toBe(true);
  });
});
