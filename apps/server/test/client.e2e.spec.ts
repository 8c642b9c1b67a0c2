/**
 * @apogee/client against a real apps/server process: the ali-ons flows, plus ordered
 * consumption, broadcasting, dead-lettering after max retries, delayed delivery and admin lookups.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Admin, Producer, PullConsumer, PushConsumer, type MessageListener, type PushConsumerOptions, type ReceivedMessage } from '@apogee/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const DELAY_LEVELS = '100ms 200ms 300ms 400ms 500ms 600ms 700ms 800ms';

let server: ServerProcess;
let dataDir: string;
let admin: Admin;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dataDir = tempDataDir('apg-client-');
  const cfg = path.join(dataDir, 'apogee.json');
  fs.writeFileSync(cfg, JSON.stringify({ broker: { messageDelayLevel: DELAY_LEVELS } }));
  server = await ServerProcess.start(path.join(dataDir, 'data'), undefined, ['--config', cfg]);
  admin = new Admin({ nameServer: server.namesrvAddr });
});

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {});
});

afterAll(async () => {
  await admin.shutdown();
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function topic(name: string, queues = 4): Promise<void> {
  await admin.createTopic(name, { readQueueNums: queues, writeQueueNums: queues });
  for (let i = 0; i < 200; i++) {
    if ((await admin.listTopics()).includes(name)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} not routable`);
}

async function producer(group: string): Promise<Producer> {
  const p = new Producer({ nameServer: server.namesrvAddr, group });
  await p.start();
  closers.push(() => p.shutdown());
  return p;
}

async function consumer(opts: Omit<PushConsumerOptions, 'nameServer'>, subs: Array<[string, string]>, listener: MessageListener): Promise<PushConsumer> {
  const c = new PushConsumer({ nameServer: server.namesrvAddr, rebalanceMs: 1000, persistOffsetMs: 500, ...opts });
  c.on('error', () => {});
  for (const [t, e] of subs) c.subscribe(t, e);
  await c.start(listener);
  closers.push(() => c.shutdown());
  return c;
}

describe('@apogee/client against apps/server', () => {
  it('sends with tags, keys and properties; a tag subscription gets exactly the matching messages, intact', async () => {
    await topic('CTags');
    const p = await producer('c-p1');
    const sent = [];
    for (let i = 0; i < 10; i++) {
      sent.push(await p.send({ topic: 'CTags', body: `body-${i}`, tags: i % 2 ? 'B' : 'A', keys: [`k${i}`], properties: { idx: String(i) } }));
    }
    expect(sent.every((r) => r.status === 'SEND_OK')).toBe(true);
    const got: ReceivedMessage[] = [];
    await consumer({ group: 'c-c1', consumeFromWhere: 'FIRST' }, [['CTags', 'A']], (msgs) => void got.push(...msgs));
    await eventually(() => got.length >= 5, '5 A messages');
    for (let q = 0; q < 4; q++)
      await p.send({ topic: 'CTags', body: 'sentinel', tags: 'A' }, { queue: { topic: 'CTags', brokerName: 'broker-a', queueId: q } });
    await eventually(() => got.filter((m) => m.body.toString() === 'sentinel').length === 4, 'sentinels');
    const real = got.filter((m) => m.body.toString() !== 'sentinel');
    expect(real.map((m) => m.body.toString()).sort()).toEqual(['body-0', 'body-2', 'body-4', 'body-6', 'body-8']);
    for (const m of real) {
      const i = m.body.toString().slice(5);
      expect(m.tags).toBe('A');
      expect(m.keys).toEqual([`k${i}`]);
      expect(m.properties['idx']).toBe(i);
      expect(m.msgId).toBe(sent[Number(i)]!.msgId);
    }
    // Admin lookups find the same messages.
    const byKey = await admin.queryMessageByKey('CTags', 'k3');
    expect(byKey.map((m) => m.body.toString())).toEqual(['body-3']);
    const byId = await admin.viewMessage(sent[4]!.offsetMsgId);
    expect(byId.body.toString()).toBe('body-4');
  });

  it('resumes a restarted consumer from its committed offsets', async () => {
    await topic('CResume');
    const p = await producer('c-p2');
    for (let i = 0; i < 8; i++) await p.send({ topic: 'CResume', body: `first-${i}` });
    const first: string[] = [];
    const c1 = await consumer(
      { group: 'c-c2', consumeFromWhere: 'FIRST' },
      [['CResume', '*']],
      (msgs) => void first.push(...msgs.map((m) => m.body.toString())),
    );
    await eventually(() => first.length >= 8, 'first 8');
    await c1.shutdown();
    for (let i = 0; i < 8; i++) await p.send({ topic: 'CResume', body: `second-${i}` });
    const second: string[] = [];
    await consumer({ group: 'c-c2', consumeFromWhere: 'FIRST' }, [['CResume', '*']], (msgs) => void second.push(...msgs.map((m) => m.body.toString())));
    await eventually(() => second.length >= 8, 'second 8');
    expect(new Set(second)).toEqual(new Set(Array.from({ length: 8 }, (_, i) => `second-${i}`)));
    const progress = await admin.groupProgress('c-c2', 'CResume');
    for (let i = 0; i < 100 && progress.some((q) => q.topic === 'CResume' && q.lag > 0); i++) {
      await new Promise((r) => setTimeout(r, 50));
      progress.splice(0, progress.length, ...(await admin.groupProgress('c-c2', 'CResume')));
    }
    expect(progress.filter((q) => q.topic === 'CResume').map((q) => q.lag)).toEqual([0, 0, 0, 0]);
  });

  it('redelivers after a failure with the reconsume count, and dead-letters after max retries', async () => {
    await topic('CRetry', 2);
    const p = await producer('c-p3');
    const seen: ReceivedMessage[] = [];
    await consumer({ group: 'c-c3', consumeFromWhere: 'FIRST', maxReconsumeTimes: 2 }, [['CRetry', '*']], (msgs) => {
      seen.push(...msgs);
      return 'RECONSUME_LATER';
    });
    const sent = await p.send({ topic: 'CRetry', body: 'poison', keys: 'poison-1' });
    await eventually(() => seen.filter((m) => m.body.toString() === 'poison').length >= 3, 'three deliveries');
    expect(seen.map((m) => m.reconsumeTimes)).toEqual([0, 1, 2]);
    expect(seen.every((m) => m.topic === 'CRetry')).toBe(true);
    const pull = new PullConsumer({ nameServer: server.namesrvAddr, group: 'c-dlq-reader' });
    await pull.start();
    closers.push(() => pull.shutdown());
    let dlq: ReceivedMessage[] = [];
    for (let i = 0; i < 200 && dlq.length === 0; i++) {
      try {
        const [q] = await pull.fetchSubscribeQueues('%DLQ%c-c3');
        dlq = (await pull.pull(q!, '*', 0, 32)).messages;
      } catch {
        // not routable yet
      }
      if (dlq.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.body.toString()).toBe('poison');
    expect(dlq[0]!.properties['DLQ_ORIGIN_TOPIC']).toBe('CRetry');
    expect(dlq[0]!.msgId).toBe(sent.msgId);
  });

  it('splits queues between two consumers of a group; broadcasting gives each consumer everything', async () => {
    await topic('CSplit');
    const a: ReceivedMessage[] = [];
    const b: ReceivedMessage[] = [];
    const ca = await consumer({ group: 'c-c4', consumeFromWhere: 'FIRST' }, [['CSplit', '*']], (m) => void a.push(...m));
    const cb = await consumer({ group: 'c-c4', consumeFromWhere: 'FIRST' }, [['CSplit', '*']], (m) => void b.push(...m));
    const mine = (c: PushConsumer) =>
      c
        .assignedQueues()
        .filter((q) => q.topic === 'CSplit')
        .map((q) => q.queueId);
    await eventually(() => mine(ca).length === 2 && mine(cb).length === 2, 'an even split');
    expect(new Set([...mine(ca), ...mine(cb)]).size).toBe(4);
    const x: ReceivedMessage[] = [];
    const y: ReceivedMessage[] = [];
    await consumer({ group: 'c-bc', messageModel: 'BROADCASTING', consumeFromWhere: 'FIRST' }, [['CSplit', '*']], (m) => void x.push(...m));
    await consumer({ group: 'c-bc', messageModel: 'BROADCASTING', consumeFromWhere: 'FIRST' }, [['CSplit', '*']], (m) => void y.push(...m));
    const p = await producer('c-p4');
    for (let i = 0; i < 40; i++) await p.send({ topic: 'CSplit', body: `m${i}` });
    const bodies = (ms: ReceivedMessage[]) => new Set(ms.map((m) => m.body.toString()));
    await eventually(() => new Set([...bodies(a), ...bodies(b)]).size === 40, 'clustering: all 40 between them');
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    await eventually(() => bodies(x).size === 40 && bodies(y).size === 40, 'broadcasting: all 40 each');
  });

  it('keeps per-key order with sharding-key sends and an orderly listener', async () => {
    await topic('COrder');
    const p = await producer('c-p5');
    const got = new Map<string, number[]>();
    let failedOnce = false;
    await consumer({ group: 'c-c5', consumeFromWhere: 'FIRST', orderlyRetryPauseMs: 50 }, [['COrder', '*']], {
      orderly: true,
      consume: (msgs) => {
        for (const m of msgs) {
          const [key, seq] = m.body.toString().split(':');
          // One failure mid-stream: the queue must stall and retry, not skip ahead.
          if (key === 'order-3' && seq === '5' && !failedOnce) {
            failedOnce = true;
            return 'RECONSUME_LATER';
          }
          got.set(key!, [...(got.get(key!) ?? []), Number(seq)]);
        }
        return 'SUCCESS';
      },
    });
    const keys = Array.from({ length: 8 }, (_, i) => `order-${i}`);
    for (let seq = 0; seq < 20; seq++) {
      await Promise.all(keys.map((k) => p.send({ topic: 'COrder', body: `${k}:${seq}` }, { shardingKey: k })));
    }
    await eventually(() => keys.every((k) => (got.get(k)?.length ?? 0) >= 20), 'every key complete');
    for (const k of keys) expect(got.get(k)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(failedOnce).toBe(true);
  });

  it('delivers delayed messages after their delay level, and batches and 1 MiB bodies intact', async () => {
    await topic('CDelay', 2);
    const p = await producer('c-p6');
    const got: Array<{ m: ReceivedMessage; at: number }> = [];
    await consumer({ group: 'c-c6', consumeFromWhere: 'FIRST' }, [['CDelay', '*']], (msgs) => void got.push(...msgs.map((m) => ({ m, at: Date.now() }))));
    const sentAt = Date.now();
    await p.send({ topic: 'CDelay', body: 'later', delayLevel: 4 });
    await p.sendBatch(Array.from({ length: 32 }, (_, i) => ({ topic: 'CDelay', body: `batch-${i}` })));
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    await p.send({ topic: 'CDelay', body: big });
    await eventually(() => got.length >= 34, 'all 34 messages');
    const later = got.find((g) => g.m.body.toString() === 'later')!;
    // Level 4 is 400 ms here: never delivered before it (a lower bound, not a speed assertion).
    expect(later.at - sentAt).toBeGreaterThanOrEqual(400);
    expect(later.m.properties['DELAY']).toBeUndefined();
    expect(
      got
        .filter((g) => g.m.body.toString().startsWith('batch-'))
        .map((g) => g.m.body.toString())
        .sort(),
    ).toEqual(Array.from({ length: 32 }, (_, i) => `batch-${i}`).sort());
    const bigGot = got.find((g) => g.m.body.length === big.length)!;
    expect(bigGot.m.body.equals(big)).toBe(true);
  });
});
