/**
 * Offsets under concurrency: 64 producers × 200 messages, mixing put and putBatch, each message
 * dispatched into a random subset of 30 overlapping LMQs, while tailing readers follow some LMQs.
 * Afterwards (and again after close + reopen) every LMQ and topic queue is dense, every record
 * read at an LMQ offset names that LMQ and records that offset, and the (LMQ, offset) pairs read
 * are exactly the union of the PutResults' lmqOffsets. Run under ASYNC_FLUSH and SYNC_FLUSH.
 */
import { PropertyKey } from '@apogee/message';
import { afterEach, describe, expect, it } from 'vitest';
import { type FlushMode, type MessageStore, type PutMessage, type PutResult, openStore } from '../src/index.js';
import { decode, digest, lmqPropsOf, memoryLogger, pickDistinct, prng, randInt, randomBody, removeDir, scanQueue, tempDir } from './helpers.js';

const PRODUCERS = 64;
const MESSAGES_PER_PRODUCER = 200;
const LMQS = Array.from({ length: 30 }, (_, i) => `%LMQ%conc/${i}`);
const TOPICS = ['ConcA', 'ConcB', 'ConcC'];
const QUEUES_PER_TOPIC = 4;
const SEGMENT = 4 * 1024 * 1024;

const dirs: string[] = [];
const stores: MessageStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) removeDir(d);
});

interface Sent {
  topic: string;
  queueId: number;
  lmqs: string[];
  digest: string;
  result: PutResult;
  /** Index of the putBatch call it belonged to, or -1. */
  batch: number;
}

function message(rnd: () => number, p: number, i: number): { msg: PutMessage; lmqs: string[] } {
  const topic = TOPICS[randInt(rnd, 0, TOPICS.length - 1)]!;
  const lmqs = pickDistinct(rnd, LMQS, randInt(rnd, 0, 6));
  const size = rnd() < 0.9 ? randInt(rnd, 1, 1500) : randInt(rnd, 4097, 9000);
  const properties: Record<string, string> = { P: `${p}-${i}` };
  if (lmqs.length > 0) properties[PropertyKey.INNER_MULTI_DISPATCH] = lmqs.join(',');
  return { msg: { topic, queueId: randInt(rnd, 0, QUEUES_PER_TOPIC - 1), body: randomBody(rnd, size), properties }, lmqs };
}

/** Runs the producers; returns what every put reported. */
async function produce(store: MessageStore, seed: number): Promise<Sent[]> {
  const sent: Sent[] = [];
  let batches = 0;
  const producer = async (p: number): Promise<void> => {
    const rnd = prng(seed * 131 + p);
    let i = 0;
    while (i < MESSAGES_PER_PRODUCER) {
      if (rnd() < 0.3) {
        const n = Math.min(randInt(rnd, 2, 6), MESSAGES_PER_PRODUCER - i);
        const ms = Array.from({ length: n }, (_, k) => message(rnd, p, i + k));
        const b = batches++;
        const results = await store.putBatch(ms.map((m) => m.msg));
        expect(results.length).toBe(n);
        ms.forEach((m, k) =>
          sent.push({ topic: m.msg.topic, queueId: m.msg.queueId, lmqs: m.lmqs, digest: digest(m.msg.body), result: results[k]!, batch: b }),
        );
        i += n;
      } else {
        const m = message(rnd, p, i);
        const result = await store.put(m.msg);
        sent.push({ topic: m.msg.topic, queueId: m.msg.queueId, lmqs: m.lmqs, digest: digest(m.msg.body), result, batch: -1 });
        i++;
      }
    }
  };
  await Promise.all(Array.from({ length: PRODUCERS }, (_, p) => producer(p)));
  return sent;
}

/**
 * Follows an LMQ while it is written: reads in order from 0, waking on onArrival (or every 20 ms),
 * and checks every message arrives once, in offset order, without holes, and records the offset
 * it was read at. Stops once `done()` and the end is reached; bounded by 60 s and 100,000 reads.
 */
async function tail(store: MessageStore, lmq: string, done: () => boolean): Promise<{ read: number; problems: string[] }> {
  const problems: string[] = [];
  let next = 0;
  const deadline = Date.now() + 60_000;
  for (let reads = 0; reads < 100_000 && Date.now() < deadline && problems.length < 10; reads++) {
    const r = await store.get(lmq, 0, next, 16);
    if (r.status === 'FOUND') {
      for (const m of r.messages) {
        if (m.queueOffset !== next) problems.push(`${lmq}: expected offset ${next}, got ${m.queueOffset}`);
        const { names, offsets } = lmqPropsOf(decode(m));
        const k = names.indexOf(lmq);
        if (k < 0 || offsets[k] !== m.queueOffset) problems.push(`${lmq}@${m.queueOffset}: record says ${names[k] ?? 'no such LMQ'} @ ${offsets[k]}`);
        next = m.queueOffset + 1;
      }
      if (r.nextOffset !== next) problems.push(`${lmq}: nextOffset ${r.nextOffset} after reading up to ${next - 1}`);
      continue;
    }
    if (r.status !== 'OFFSET_OVERFLOW_ONE' && r.status !== 'NO_MESSAGE_IN_QUEUE') {
      problems.push(`${lmq}: get(${next}) -> ${r.status} (max ${r.maxOffset})`);
      break;
    }
    if (done() && next >= store.getMaxOffset(lmq, 0)) break;
    await new Promise<void>((resolve) => {
      let stop = (): void => {};
      const timer = setTimeout(() => {
        stop();
        resolve();
      }, 20);
      stop = store.onArrival(lmq, 0, () => {
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
  }
  if (!done() || next < store.getMaxOffset(lmq, 0)) problems.push(`${lmq}: tail stopped at ${next} (max ${store.getMaxOffset(lmq, 0)})`);
  return { read: next, problems };
}

/** What a put reported must agree with itself: batch contiguity and per-queue offset runs. */
function checkResults(sent: readonly Sent[]): string[] {
  const problems: string[] = [];
  const byBatch = new Map<number, Sent[]>();
  for (const s of sent) {
    if (s.result.lmqOffsets.length !== s.lmqs.length)
      problems.push(`put at ${s.result.commitLogOffset}: ${s.lmqs.length} LMQs, ${s.result.lmqOffsets.length} offsets`);
    if (s.batch >= 0) byBatch.set(s.batch, [...(byBatch.get(s.batch) ?? []), s]);
  }
  for (const [b, ms] of byBatch) {
    // Consecutive records (a segment rollover may put a filler between two of them).
    for (let k = 1; k < ms.length; k++) {
      const prev = ms[k - 1]!.result;
      const cur = ms[k]!.result;
      if (cur.commitLogOffset !== prev.commitLogOffset + prev.size && cur.commitLogOffset % SEGMENT !== 0) {
        problems.push(`batch ${b}: message ${k} at ${cur.commitLogOffset}, previous ended at ${prev.commitLogOffset + prev.size}`);
      }
    }
    // Nothing interleaves a batch: each queue and LMQ got consecutive offsets within it.
    const last = new Map<string, number>();
    for (const s of ms) {
      const seen = [[`${s.topic}:${s.queueId}`, s.result.queueOffset] as const, ...s.lmqs.map((l, i) => [l, s.result.lmqOffsets[i]!] as const)];
      for (const [q, o] of seen) {
        const before = last.get(q);
        if (before !== undefined && o !== before + 1) problems.push(`batch ${b}: ${q} offsets ${before} then ${o}`);
        last.set(q, o);
      }
    }
  }
  return problems.slice(0, 20);
}

/** Reads every queue back and compares with what the puts reported. */
async function verifyStore(store: MessageStore, sent: readonly Sent[]): Promise<string[]> {
  const problems: string[] = [];
  const fail = (s: string): void => {
    if (problems.length < 40) problems.push(s);
  };
  const byLog = new Map<number, Sent>();
  const lmqPairs = new Map<string, Map<number, number>>(); // lmq -> offset -> log offset (from PutResults)
  const queuePairs = new Map<string, Map<number, number>>();
  const add = (map: Map<string, Map<number, number>>, q: string, offset: number, clo: number): void => {
    let m = map.get(q);
    if (!m) map.set(q, (m = new Map()));
    if (m.has(offset)) fail(`${q}: offset ${offset} reported twice (log offsets ${m.get(offset)} and ${clo})`);
    m.set(offset, clo);
  };
  for (const s of sent) {
    if (byLog.has(s.result.commitLogOffset)) fail(`log offset ${s.result.commitLogOffset} reported twice`);
    byLog.set(s.result.commitLogOffset, s);
    add(queuePairs, `${s.topic}\0${s.queueId}`, s.result.queueOffset, s.result.commitLogOffset);
    s.lmqs.forEach((l, i) => add(lmqPairs, l, s.result.lmqOffsets[i]!, s.result.commitLogOffset));
  }

  const check = async (topic: string, queueId: number, expected: Map<number, number> | undefined, isLmq: boolean): Promise<void> => {
    const name = `${topic}:${queueId}`;
    const n = expected?.size ?? 0;
    const max = store.getMaxOffset(topic, queueId);
    if (max !== n) fail(`${name}: max offset ${max}, but ${n} offsets were reported`);
    if (store.getMinOffset(topic, queueId) !== 0) fail(`${name}: min offset ${store.getMinOffset(topic, queueId)}`);
    const scan = await scanQueue(store, topic, queueId, 0, Math.max(max, n), 100);
    for (const a of scan.anomalies) fail(a);
    if (scan.missing.length > 0) fail(`${name}: offsets not readable: ${scan.missing.slice(0, 10).join(',')}`);
    for (const [offset, sm] of scan.messages) {
      const m = decode(sm);
      const want = expected?.get(offset);
      if (want !== sm.commitLogOffset || m.commitLogOffset !== sm.commitLogOffset)
        fail(`${name}@${offset}: read log offset ${sm.commitLogOffset}, reported ${want}`);
      const s = byLog.get(m.commitLogOffset);
      if (!s || digest(m.body) !== s.digest) fail(`${name}@${offset}: body differs from what was put`);
      const { names, offsets } = lmqPropsOf(m);
      if (names.join(',') !== (s?.lmqs ?? []).join(',')) fail(`${name}@${offset}: INNER_MULTI_DISPATCH ${names.join(',')}, put ${s?.lmqs.join(',')}`);
      if (offsets.join(',') !== (s?.result.lmqOffsets ?? []).join(','))
        fail(`${name}@${offset}: INNER_MULTI_QUEUE_OFFSET ${offsets.join(',')}, PutResult ${s?.result.lmqOffsets.join(',')}`);
      if (isLmq) {
        const k = names.indexOf(topic);
        if (k < 0 || offsets[k] !== offset) fail(`${name}@${offset}: record names ${names[k] ?? 'not this LMQ'} at ${offsets[k]}`);
      } else if (m.topic !== topic || m.queueId !== queueId || m.queueOffset !== offset) {
        fail(`${name}@${offset}: record is ${m.topic}:${m.queueId}@${m.queueOffset}`);
      }
    }
  };
  await Promise.all(LMQS.map((l) => check(l, 0, lmqPairs.get(l), true)));
  for (const t of TOPICS) for (let q = 0; q < QUEUES_PER_TOPIC; q++) await check(t, q, queuePairs.get(`${t}\0${q}`), false);
  return problems;
}

describe('concurrent producers and overlapping LMQs', () => {
  for (const flushMode of ['ASYNC_FLUSH', 'SYNC_FLUSH'] as FlushMode[]) {
    it(`${flushMode}: dense unique offsets per LMQ, records agree with their offsets, before and after reopen`, async () => {
      const dir = tempDir(`conc-${flushMode}`);
      dirs.push(dir);
      const config = { dataDir: dir, flushMode, segmentSize: SEGMENT };
      const log = memoryLogger();
      let store = await openStore(config, log);
      stores.push(store);

      const t0 = Date.now();
      let producing = true;
      const tails = LMQS.slice(0, 4).map((l) => tail(store, l, () => !producing));
      const sent = await produce(store, flushMode === 'SYNC_FLUSH' ? 2 : 1).finally(() => (producing = false));
      const tailed = await Promise.all(tails);
      const tProduce = Date.now() - t0;
      expect(sent.length).toBe(PRODUCERS * MESSAGES_PER_PRODUCER);
      expect(tailed.flatMap((t) => t.problems)).toEqual([]);
      expect(checkResults(sent)).toEqual([]);

      const live = await verifyStore(store, sent);
      expect(live).toEqual([]);
      const stats = store.stats();
      await store.close();
      stores.length = 0;

      store = await openStore(config, log);
      stores.push(store);
      const reopened = await verifyStore(store, sent);
      expect(reopened).toEqual([]);
      // After reopen, writing continues at the next offset of every LMQ.
      const maxes = LMQS.map((l) => store.getMaxOffset(l, 0));
      const r = await store.put({ topic: 'ConcA', queueId: 0, body: Buffer.from('x'), properties: { [PropertyKey.INNER_MULTI_DISPATCH]: LMQS.join(',') } });
      expect(r.lmqOffsets).toEqual(maxes);
      await store.close();
      stores.length = 0;
      expect(log.lines.filter((l) => l.level !== 'info')).toEqual([]);
      const entries = sent.reduce((n, s) => n + s.lmqs.length, 0);
      console.log(
        `${flushMode}: ${sent.length} messages, ${entries} LMQ entries, ${stats.segments} segments, ${(stats as { fsyncs?: number }).fsyncs} fsyncs, ` +
          `tails read ${tailed.map((t) => t.read).join('/')}, produce ${tProduce} ms, total ${Date.now() - t0} ms`,
      );
    });
  }
});

describe('readers following queues while their index blocks are persisted', () => {
  for (const flushMode of ['SYNC_FLUSH', 'ASYNC_FLUSH'] as FlushMode[]) {
    it(`${flushMode}: a reader at any offset below max gets that message (never OFFSET_FOUND_NULL, never a skip)`, async () => {
      // 2,000 puts, each into the same 50 LMQs; after every put, readers of the LMQs (each
      // reading every 1st–5th put) continue from their nextOffset. The index is flushed every
      // millisecond, so reads keep landing while index blocks are being committed to LMDB.
      const dir = tempDir(`follow-${flushMode}`);
      dirs.push(dir);
      const log = memoryLogger();
      const store = await openStore({ dataDir: dir, flushMode, indexFlushIntervalMs: 1, asyncFlushIntervalMs: 1 }, log);
      stores.push(store);
      const PUTS = 2_000;
      const lmqs = Array.from({ length: 50 }, (_, j) => `%LMQ%follow/${j}`);
      const next = lmqs.map(() => 0);
      const problems: string[] = [];
      const read = async (j: number): Promise<void> => {
        const lmq = lmqs[j]!;
        const r = await store.get(lmq, 0, next[j]!, 32);
        if (r.status === 'OFFSET_OVERFLOW_ONE') return;
        if (r.status !== 'FOUND' || r.messages[0]?.queueOffset !== next[j]) {
          problems.push(`${lmq}: get(${next[j]}) -> ${r.status}, first ${r.messages[0]?.queueOffset}, max ${r.maxOffset}, nextOffset ${r.nextOffset}`);
        }
        r.messages.forEach((m, k) => {
          if (m.queueOffset !== next[j]! + k) problems.push(`${lmq}: offset ${m.queueOffset} at position ${k} of a read from ${next[j]}`);
          if (decode(m).body.toString() !== `m${m.queueOffset}`) problems.push(`${lmq}@${m.queueOffset}: body ${decode(m).body.toString()}`);
        });
        next[j] = r.nextOffset;
      };
      for (let i = 0; i < PUTS && problems.length < 10; i++) {
        await store.put({ topic: 'Follow', queueId: 0, body: Buffer.from(`m${i}`), properties: { [PropertyKey.INNER_MULTI_DISPATCH]: lmqs.join(',') } });
        for (let j = 0; j < lmqs.length; j++) if (i % ((j % 5) + 1) === 0) await read(j);
      }
      // Catch up: every reader reaches the end having read each message once, in order.
      for (let j = 0; j < lmqs.length; j++) {
        for (let guard = 0; guard < PUTS && next[j]! < PUTS && problems.length < 10; guard++) await read(j);
        if (next[j] !== PUTS) problems.push(`${lmqs[j]}: reader ended at ${next[j]} of ${PUTS}`);
      }
      expect(problems.slice(0, 10)).toEqual([]);
      expect(log.lines.filter((l) => l.level !== 'info')).toEqual([]);
    });
  }
});

describe('close() while producers are putting', () => {
  it('every put that resolved is stored at its offsets after reopen; every rejected one (CLOSED) is not', async () => {
    const dir = tempDir('close-race');
    dirs.push(dir);
    const config = { dataDir: dir, flushMode: 'SYNC_FLUSH' as FlushMode, segmentSize: SEGMENT };
    const log = memoryLogger();
    let store = await openStore(config, log);
    stores.push(store);
    const resolved: Sent[] = [];
    const rejections = new Map<string, number>();
    let closing: Promise<void> | null = null;
    const producer = async (p: number): Promise<void> => {
      const rnd = prng(9_000 + p);
      for (let i = 0; i < 500; i++) {
        if (!closing && resolved.length >= 3_000) closing = store.close();
        const batch = rnd() < 0.3 ? randInt(rnd, 2, 4) : 1;
        const ms = Array.from({ length: batch }, (_, k) => message(rnd, p, i * 10 + k));
        try {
          const results = batch === 1 ? [await store.put(ms[0]!.msg)] : await store.putBatch(ms.map((m) => m.msg));
          ms.forEach((m, k) =>
            resolved.push({ topic: m.msg.topic, queueId: m.msg.queueId, lmqs: m.lmqs, digest: digest(m.msg.body), result: results[k]!, batch: -1 }),
          );
        } catch (err) {
          const code = (err as { code?: string }).code ?? String(err);
          rejections.set(code, (rejections.get(code) ?? 0) + 1);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: PRODUCERS }, (_, p) => producer(p)));
    expect(closing).not.toBeNull();
    await closing;
    stores.length = 0;
    expect([...rejections.keys()]).toEqual(['APG_STORE_CLOSED']);

    store = await openStore(config, log);
    stores.push(store);
    expect(await verifyStore(store, resolved)).toEqual([]);
    await store.close();
    stores.length = 0;
    console.log(`close race: ${resolved.length} puts resolved, ${rejections.get('APG_STORE_CLOSED')} rejected as CLOSED`);
  });
});
