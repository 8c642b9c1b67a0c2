/**
 * One million LMQs in one store: 10,000 messages, each dispatched into 100 LMQs of its own
 * (`%LMQ%dev/<n>`, n = message × 100 + k), so every LMQ holds exactly one message. A sample of
 * LMQs is read back (live and after close + reopen). Setup time and RSS are printed, not asserted.
 */
import { PropertyKey } from '@apogee/message';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MessageStore, type PutMessage, type PutResult, type StoreConfig, openStore } from '../src/index.js';
import { decode, lmqPropsOf, memoryLogger, prng, removeDir, rssMiB, sleep, tempDir } from './helpers.js';

const MESSAGES = 10_000;
const LMQS_PER_MESSAGE = 100;
const TOTAL_LMQS = MESSAGES * LMQS_PER_MESSAGE;
const BATCH = 50;
const IN_FLIGHT = 4;
const TOPIC = 'DevicesTopic';

const lmqName = (n: number): string => `%LMQ%dev/${n}`;

/** Message i: body names it; INNER_MULTI_DISPATCH is LMQs i*100 .. i*100+99, in a rotated order. */
function message(i: number): PutMessage {
  const names: string[] = [];
  for (let k = 0; k < LMQS_PER_MESSAGE; k++) names.push(lmqName(i * LMQS_PER_MESSAGE + ((k + i) % LMQS_PER_MESSAGE)));
  return { topic: TOPIC, queueId: i % 8, body: Buffer.from(`device message ${i}`), properties: { [PropertyKey.INNER_MULTI_DISPATCH]: names.join(',') } };
}

/** The message an LMQ must hold, and the LMQ's position in that message's list. */
function owner(n: number): { i: number; k: number } {
  const i = Math.floor(n / LMQS_PER_MESSAGE);
  const j = n % LMQS_PER_MESSAGE; // (k + i) % 100 === j
  return { i, k: (j - (i % LMQS_PER_MESSAGE) + LMQS_PER_MESSAGE) % LMQS_PER_MESSAGE };
}

/** Reads `count` random LMQs (plus the first and last) and checks each holds exactly its message. */
async function checkSample(store: MessageStore, seed: number, count: number): Promise<string[]> {
  const problems: string[] = [];
  const rnd = prng(seed);
  const sample = [0, TOTAL_LMQS - 1, ...Array.from({ length: count }, () => Math.floor(rnd() * TOTAL_LMQS))];
  for (const n of sample) {
    const name = lmqName(n);
    const { i, k } = owner(n);
    const r = await store.get(name, 0, 0, 10);
    const max = store.getMaxOffset(name, 0);
    if (r.status !== 'FOUND' || r.messages.length !== 1 || max !== 1 || r.nextOffset !== 1) {
      problems.push(`${name}: ${r.status}, ${r.messages.length} messages, max ${max}, next ${r.nextOffset}`);
      continue;
    }
    const m = decode(r.messages[0]!);
    const { names, offsets } = lmqPropsOf(m);
    if (m.body.toString() !== `device message ${i}` || names[k] !== name || offsets.length !== LMQS_PER_MESSAGE || offsets.some((o) => o !== 0)) {
      problems.push(`${name}: holds "${m.body.toString()}", position ${k} names ${names[k]}, offsets ${offsets.slice(0, 5).join(',')}…`);
    }
    const second = await store.get(name, 0, 1, 10);
    if (second.status !== 'OFFSET_OVERFLOW_ONE') problems.push(`${name}: get(1) -> ${second.status}`);
    if (problems.length > 20) break;
  }
  for (const never of ['%LMQ%dev/never-used', lmqName(TOTAL_LMQS), lmqName(TOTAL_LMQS + 12_345)]) {
    if (store.getMaxOffset(never, 0) !== 0) problems.push(`${never}: max ${store.getMaxOffset(never, 0)}`);
    if (store.hasQueue(never, 0)) problems.push(`${never}: hasQueue() is true`);
    const r = await store.get(never, 0, 0, 10);
    if (r.status !== 'NO_MESSAGE_IN_QUEUE' || r.messages.length !== 0) problems.push(`${never}: get -> ${r.status}`);
  }
  return problems;
}

describe('one million LMQs', () => {
  let dir: string;
  let config: StoreConfig;
  let store: MessageStore | undefined;
  const log = memoryLogger();

  beforeAll(() => {
    dir = tempDir('million');
    config = { dataDir: dir, segmentSize: 64 * 1024 * 1024 };
  });

  afterAll(async () => {
    await store?.close().catch(() => {});
    removeDir(dir);
  });

  it('stores 10,000 messages × 100 LMQs; a sample of LMQs each hold exactly their message, live and after reopen', async () => {
    const rssBefore = rssMiB();
    const t0 = Date.now();
    store = await openStore(config, log);
    const s = store;

    // Batches of 50 messages, 4 batches in flight at a time, 10,000 messages in all. The time is
    // printed, never asserted (speed is the benchmark's business).
    let next = 0;
    let stored = 0;
    const queueOffsets: number[][] = Array.from({ length: 8 }, () => []);
    const worker = async (): Promise<void> => {
      for (let guard = 0; guard < MESSAGES && next < MESSAGES; guard++) {
        const from = next;
        next = Math.min(MESSAGES, next + BATCH);
        const msgs: PutMessage[] = [];
        for (let i = from; i < next; i++) msgs.push(message(i));
        const results = await s.putBatch(msgs);
        for (const [j, r] of results.entries()) {
          if (r.lmqOffsets.length !== LMQS_PER_MESSAGE || r.lmqOffsets.some((o) => o !== 0))
            throw new Error(`message ${from + j}: lmqOffsets ${r.lmqOffsets.slice(0, 5).join(',')}…`);
        }
        for (const [j, r] of results.entries()) queueOffsets[(from + j) % 8]!.push(r.queueOffset);
        stored += results.length;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker()));
    const setupMs = Date.now() - t0;
    const rssAfter = rssMiB();
    const stats = s.stats();
    console.log(
      `million LMQs: ${stored * LMQS_PER_MESSAGE} LMQs, ${stored} messages, setup ${setupMs} ms, log ${stats.maxCommitLogOffset} bytes, cached queues ${stats.cachedQueues}, RSS ${rssBefore} -> ${rssAfter} MiB`,
    );
    expect(stored).toBe(MESSAGES);

    // The topic queues' offsets are dense and unique too.
    for (const [q, offsets] of queueOffsets.entries()) {
      expect(
        [...offsets].sort((a, b) => a - b),
        `queue ${q}`,
      ).toEqual(offsets.map((_, k) => k));
      expect(s.getMaxOffset(TOPIC, q)).toBe(offsets.length);
    }

    let t = Date.now();
    expect(await checkSample(s, 1, 1_000)).toEqual([]);
    console.log(`million LMQs: live sample of 1,000 read in ${Date.now() - t} ms`);

    t = Date.now();
    await s.close();
    store = undefined;
    const closeMs = Date.now() - t;
    t = Date.now();
    store = await openStore(config, log);
    const reopenMs = Date.now() - t;
    t = Date.now();
    expect(await checkSample(store, 2, 1_000)).toEqual([]);
    console.log(`million LMQs: close ${closeMs} ms, reopen ${reopenMs} ms, sample after reopen ${Date.now() - t} ms, RSS ${rssMiB()} MiB`);

    // The store keeps taking LMQs after reopen: a new one starts at 0, a used one continues at 1.
    const r = await store.put({
      topic: TOPIC,
      queueId: 0,
      body: Buffer.from('late'),
      properties: { [PropertyKey.INNER_MULTI_DISPATCH]: `${lmqName(TOTAL_LMQS)},${lmqName(777_777)}` },
    });
    expect(r.lmqOffsets).toEqual([0, 1]);
    expect(store.getMaxOffset(lmqName(777_777), 0)).toBe(2);
    await store.close();
    store = undefined;
    expect(log.lines.filter((l) => l.level !== 'info')).toEqual([]);
  }, 180_000);
});

describe('LMQs beyond the queue cache', () => {
  it('keeps creating LMQs correctly while the cache is full of queues not yet flushable', async () => {
    // ASYNC_FLUSH with a one-minute fdatasync period: no index entry becomes persistable during
    // the test, so no cached queue can be evicted. 600 messages create 60,000 LMQs through a cache
    // of 1,000; every one must get offset 0 and be readable.
    const dir = tempDir('full-cache');
    const store = await openStore({ dataDir: dir, maxCachedQueues: 1_000, flushMode: 'ASYNC_FLUSH', asyncFlushIntervalMs: 60_000 }, memoryLogger());
    try {
      const t0 = Date.now();
      let stored = 0;
      for (let i = 0; i < 600; i += 5) {
        const msgs = Array.from({ length: 5 }, (_, j) => ({
          topic: TOPIC,
          queueId: 0,
          body: Buffer.from(`m${i + j}`),
          properties: { [PropertyKey.INNER_MULTI_DISPATCH]: Array.from({ length: 100 }, (_, k) => `%LMQ%full/${(i + j) * 100 + k}`).join(',') },
        }));
        const results = await store.putBatch(msgs);
        expect(results.every((r) => r.lmqOffsets.every((o) => o === 0))).toBe(true);
        stored += results.length;
      }
      console.log(`full cache: ${stored * 100} LMQs created through a cache of 1,000 in ${Date.now() - t0} ms (cached ${store.stats().cachedQueues})`);
      expect(stored).toBe(600);
      expect(store.getMaxOffset('%LMQ%full/0', 0)).toBe(1);
      expect(store.getMaxOffset('%LMQ%full/59999', 0)).toBe(1);
    } finally {
      await store.close().catch(() => {});
      removeDir(dir);
    }
  });

  it('a put that overfills the queue cache hands out no queue or LMQ offset twice', async () => {
    // Cache of 4 queues. After reopen, one put loads topic queue T and LMQ A (clean) and creates
    // four new LMQs (dirty): the cache overflows while this put holds T and A. A second put to T
    // and A, in the same event turn, must continue after the first one's offsets.
    const dir = tempDir('overfill');
    const config: StoreConfig = { dataDir: dir, maxCachedQueues: 4, flushMode: 'SYNC_FLUSH' };
    let store = await openStore(config, memoryLogger());
    try {
      const first = await store.put({ topic: TOPIC, queueId: 0, body: Buffer.from('m0'), properties: { [PropertyKey.INNER_MULTI_DISPATCH]: '%LMQ%A' } });
      expect([first.queueOffset, first.lmqOffsets]).toEqual([0, [0]]);
      await store.close();
      store = await openStore(config, memoryLogger());
      const p1 = store.put({
        topic: TOPIC,
        queueId: 0,
        body: Buffer.from('m1'),
        properties: { [PropertyKey.INNER_MULTI_DISPATCH]: '%LMQ%N1,%LMQ%N2,%LMQ%N3,%LMQ%N4,%LMQ%A' },
      });
      const p2 = store.put({ topic: TOPIC, queueId: 0, body: Buffer.from('m2'), properties: { [PropertyKey.INNER_MULTI_DISPATCH]: '%LMQ%A' } });
      const [r1, r2] = await Promise.all([p1, p2]);
      expect({ q1: r1.queueOffset, lmq1: r1.lmqOffsets, q2: r2.queueOffset, lmq2: r2.lmqOffsets }).toEqual({ q1: 1, lmq1: [0, 0, 0, 0, 1], q2: 2, lmq2: [2] });
      await store.close();
      store = await openStore(config, memoryLogger());
      for (const q of [TOPIC, '%LMQ%A']) {
        const r = await store.get(q, 0, 0, 10);
        expect(
          r.messages.map((m) => decode(m).body.toString()),
          q,
        ).toEqual(['m0', 'm1', 'm2']);
      }
    } finally {
      await store.close().catch(() => {});
      removeDir(dir);
    }
  });

  it('evicted LMQs reload with their offsets: 20,000 LMQs through a cache of 1,000, two rounds, then reopen', async () => {
    const dir = tempDir('evict');
    const config: StoreConfig = { dataDir: dir, segmentSize: 16 * 1024 * 1024, maxCachedQueues: 1_000, flushMode: 'SYNC_FLUSH', indexFlushIntervalMs: 10 };
    const log = memoryLogger();
    let store = await openStore(config, log);
    try {
      const N = 20_000;
      const name = (n: number): string => `%LMQ%ev/${n}`;
      const put = (body: string, lmqs: string[]): Promise<PutResult[]> =>
        store.putBatch([{ topic: TOPIC, queueId: 0, body: Buffer.from(body), properties: { [PropertyKey.INNER_MULTI_DISPATCH]: lmqs.join(',') } }]);
      // Round 0: message i -> LMQs i*100 .. i*100+99. Round 1: message i -> LMQs k*200 + i.
      const lists = [(i: number) => Array.from({ length: 100 }, (_, k) => i * 100 + k), (i: number) => Array.from({ length: 100 }, (_, k) => k * 200 + i)];
      const t0 = Date.now();
      const cachedAfter: number[] = [];
      for (const [round, list] of lists.entries()) {
        for (let from = 0; from < 200; from += 4) {
          const results = await Promise.all([0, 1, 2, 3].map((d) => put(`round ${round} message ${from + d}`, list(from + d).map(name))));
          for (const [r] of results) expect(r!.lmqOffsets.every((o) => o === round)).toBe(true);
        }
        cachedAfter.push(store.stats().cachedQueues);
        if (round === 1) break;
        // New LMQs push the round-0 ones out of the cache once their index entries are committed
        // (the index is flushed every 10 ms). Bounded: at most 500 puts of 100 new LMQs each.
        for (let f = 0; f < 500 && store.stats().cachedQueues > 2_000; f++) {
          await put(
            `filler ${f}`,
            Array.from({ length: 100 }, (_, k) => `%LMQ%ev-filler/${f * 100 + k}`),
          );
          await sleep(2);
        }
        cachedAfter.push(store.stats().cachedQueues);
        expect(store.stats().cachedQueues).toBeLessThanOrEqual(2_000);
      }
      const check = async (): Promise<string[]> => {
        const problems: string[] = [];
        for (let n = 0; n < N && problems.length < 20; n++) {
          const r = await store.get(name(n), 0, 0, 10);
          const bodies = r.messages.map((m) => decode(m).body.toString());
          const want = [`round 0 message ${Math.floor(n / 100)}`, `round 1 message ${n % 200}`];
          if (store.getMaxOffset(name(n), 0) !== 2 || bodies.join('|') !== want.join('|'))
            problems.push(`${name(n)}: max ${store.getMaxOffset(name(n), 0)}, ${r.status} [${bodies.join('|')}]`);
          for (const m of r.messages) {
            const { names, offsets } = lmqPropsOf(decode(m));
            if (offsets[names.indexOf(name(n))] !== m.queueOffset) problems.push(`${name(n)}@${m.queueOffset}: record says ${offsets[names.indexOf(name(n))]}`);
          }
        }
        return problems;
      };
      expect(await check()).toEqual([]);
      await store.close();
      store = await openStore(config, log);
      expect(await check()).toEqual([]);
      const [r] = await put('third', [name(0), name(N - 1)]);
      expect(r!.lmqOffsets).toEqual([2, 2]);
      console.log(`evicting LMQs: ${N} LMQs through a cache of 1,000 (cached: ${cachedAfter.join(' -> ')}), ${Date.now() - t0} ms`);
      expect(log.lines.filter((l) => l.level !== 'info')).toEqual([]);
    } finally {
      await store.close().catch(() => {});
      removeDir(dir);
    }
  });
});
