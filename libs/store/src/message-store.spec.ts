import fs from 'node:fs';
import path from 'node:path';
import { FrozenProperties, SysFlag, decodeRecord, javaStringHashCode } from '@apogee/message';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DefaultMessageStore } from './message-store.js';
import { IllegalPutError, MessageTooLargeError, StoreLockedError } from './errors.js';
import { memoryLogger, openTestStore, tempDir } from './test-support.js';

let dir: string;
let cleanup: () => void;
let store: DefaultMessageStore;

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  store = await openTestStore(dir);
});

afterEach(async () => {
  await store.close();
  cleanup();
});

const body = (s: string) => Buffer.from(s);
const bodiesOf = (r: { messages: Array<{ record: Buffer }> }) => r.messages.map((m) => decodeRecord(m.record).body.toString());

describe('put and get', () => {
  it('assigns dense queue offsets per queue and returns records byte-identical to what get serves', async () => {
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await store.put({ topic: 'T', queueId: i % 2, body: body(`m${i}`), properties: { TAGS: 'a' } }));
    expect(results.map((r) => r.queueOffset)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    const got = await store.get('T', 1, 0, 32);
    expect(got.status).toBe('FOUND');
    expect(bodiesOf(got)).toEqual(['m1', 'm3', 'm5', 'm7', 'm9']);
    expect(got.nextOffset).toBe(5);
    expect(got.maxOffset).toBe(5);
    const m = decodeRecord(got.messages[2]!.record);
    expect(m.queueOffset).toBe(2);
    expect(m.commitLogOffset).toBe(results[5]!.commitLogOffset);
    expect(m.msgId).toBe(results[5]!.msgId);
    // The offset id of a commit-log offset, without a read (trace records of deliveries use it).
    expect(store.offsetMessageId(results[5]!.commitLogOffset)).toBe(m.msgId);
    expect(m.storeTimestamp).toBe(results[5]!.storeTimestamp);
    expect(m.properties.get('TAGS')).toBe('a');
  });

  it('reports RocketMQ read statuses at and around the queue bounds', async () => {
    expect((await store.get('T', 0, 0, 1)).status).toBe('NO_MESSAGE_IN_QUEUE');
    await store.put({ topic: 'T', queueId: 0, body: body('x') });
    expect(await store.get('T', 0, 1, 1)).toMatchObject({ status: 'OFFSET_OVERFLOW_ONE', nextOffset: 1 });
    expect(await store.get('T', 0, 5, 1)).toMatchObject({ status: 'OFFSET_OVERFLOW_BADLY', nextOffset: 1 });
    expect((await store.get('T', 0, 0, 1)).status).toBe('FOUND');
  });

  it('filters by tags code without reading records and says when nothing matched', async () => {
    for (const t of ['a', 'b', 'a', 'c', 'b']) await store.put({ topic: 'T', queueId: 0, body: body(t), properties: { TAGS: t } });
    const want = new Set([javaStringHashCode('b')]);
    const got = await store.get('T', 0, 0, 32, { filter: { matchByTagsCode: (c) => want.has(c) } });
    expect(bodiesOf(got)).toEqual(['b', 'b']);
    expect(got.messages.map((m) => m.queueOffset)).toEqual([1, 4]);
    expect(got.nextOffset).toBe(5);
    const none = await store.get('T', 0, 0, 32, { filter: { matchByTagsCode: () => false } });
    expect(none).toMatchObject({ status: 'NO_MATCHED_MESSAGE', nextOffset: 5 });
    const byRecord = await store.get('T', 0, 0, 32, { filter: { matchByTagsCode: () => true, matchByRecord: (r) => decodeRecord(r).body.toString() === 'c' } });
    expect(bodiesOf(byRecord)).toEqual(['c']);
  });

  it('fills a pull past entries a record filter rejects, and resumes after the last entry it examined', async () => {
    for (let i = 0; i < 100; i++) await store.put({ topic: 'T', queueId: 0, body: body(String(i)) });
    const everyTenth = { matchByTagsCode: () => true, matchByRecord: (r: Buffer) => Number(decodeRecord(r).body.toString()) % 10 === 0 };
    const first = await store.get('T', 0, 0, 4, { filter: everyTenth });
    expect(bodiesOf(first)).toEqual(['0', '10', '20', '30']);
    // Entries 31..33 were not examined: the next read starts right after the last message taken.
    expect(first.nextOffset).toBe(31);
    const rest = await store.get('T', 0, first.nextOffset, 32, { filter: everyTenth });
    expect(bodiesOf(rest)).toEqual(['40', '50', '60', '70', '80', '90']);
    expect(rest.nextOffset).toBe(100);
    // A byte budget counts only what is returned; the next read starts at the match that did not fit.
    const small = await store.get('T', 0, 0, 32, { filter: everyTenth, maxBytes: 1 });
    expect(bodiesOf(small)).toEqual(['0']);
    expect(small.nextOffset).toBe(10);
    // Nothing matching in the whole scan: it moves past all of it.
    const none = await store.get('T', 0, 0, 32, { filter: { matchByTagsCode: () => true, matchByRecord: () => false } });
    expect(none).toMatchObject({ status: 'NO_MATCHED_MESSAGE', nextOffset: 100 });
  });

  it('honours maxCount and maxBytes but always returns at least one message', async () => {
    for (let i = 0; i < 10; i++) await store.put({ topic: 'T', queueId: 0, body: Buffer.alloc(1000, i) });
    expect((await store.get('T', 0, 0, 3)).messages).toHaveLength(3);
    expect((await store.get('T', 0, 0, 32, { maxBytes: 2500 })).messages).toHaveLength(2);
    const one = await store.get('T', 0, 0, 32, { maxBytes: 1 });
    expect(one.messages).toHaveLength(1);
    expect(one.nextOffset).toBe(1);
  });

  it('rolls segments over with an end-of-segment filler and reads across them', async () => {
    const n = 300; // 300 x ~1.1 KiB > several 64 KiB segments
    const puts = await Promise.all(Array.from({ length: n }, (_, i) => store.put({ topic: 'T', queueId: 0, body: Buffer.alloc(1000, i % 251) })));
    expect(store.stats().segments).toBeGreaterThan(4);
    for (const r of puts) expect(Math.floor(r.commitLogOffset / 65536)).toBe(Math.floor((r.commitLogOffset + r.size - 1) / 65536));
    let offset = 0;
    while (offset < n) {
      const got = await store.get('T', 0, offset, 32);
      for (const m of got.messages) expect(decodeRecord(m.record).body[0]).toBe(m.queueOffset % 251);
      offset = got.nextOffset;
    }
  });

  it('finds the offset of a store time (lower and upper bound)', async () => {
    let now = 1_000_000;
    await store.close();
    store = await openTestStore(dir, { now: () => now });
    for (let i = 0; i < 5; i++) {
      now = 1_000_000 + i * 100;
      await store.put({ topic: 'T', queueId: 0, body: body(`${i}`) });
    }
    expect(await store.getOffsetByTime('T', 0, 1_000_150)).toBe(2);
    expect(await store.getOffsetByTime('T', 0, 1_000_150, 'upper')).toBe(1);
    expect(await store.getOffsetByTime('T', 0, 1_000_200)).toBe(2);
    expect(await store.getOffsetByTime('T', 0, 0)).toBe(0);
    expect(await store.getOffsetByTime('T', 0, 9_999_999)).toBe(5);
  });

  it('looks messages up by key and by unique key within a time range, and by commit-log offset', async () => {
    const r = await store.put({ topic: 'T', queueId: 0, body: body('k'), properties: { KEYS: 'order-1 user-9', UNIQ_KEY: 'U1' } });
    await store.put({ topic: 'T', queueId: 0, body: body('other'), properties: { KEYS: 'order-2' } });
    await store.put({ topic: 'U', queueId: 0, body: body('other topic'), properties: { KEYS: 'order-1' } });
    const now = Date.now();
    const hits = await store.queryByKey('T', 'user-9', 10, now - 60_000, now + 60_000);
    expect(hits.map((h) => decodeRecord(h.record).body.toString())).toEqual(['k']);
    expect((await store.queryByKey('T', 'order-1', 10, now - 60_000, now + 60_000)).length).toBe(1);
    expect(await store.queryByKey('T', 'order-1', 10, now + 120_000, now + 180_000)).toEqual([]);
    expect((await store.queryByUniqueKey('T', 'U1', now - 60_000, now + 60_000))[0]!.commitLogOffset).toBe(r.commitLogOffset);
    const rec = await store.readRecord(r.commitLogOffset);
    expect(decodeRecord(rec!).body.toString()).toBe('k');
    expect(await store.readRecord(r.commitLogOffset + 1)).toBeNull();
    expect(await store.readRecord(1e12)).toBeNull();
    // Persisted rows answer the same after a restart.
    await store.close();
    store = await openTestStore(dir);
    expect((await store.queryByKey('T', 'user-9', 10, now - 60_000, now + 60_000)).length).toBe(1);
  });

  it('keeps prepared and rolled-back transaction records out of every queue', async () => {
    const r = await store.put({
      topic: 'T',
      queueId: 0,
      body: body('half'),
      sysFlag: SysFlag.TRANSACTION_PREPARED_TYPE,
      properties: { INNER_MULTI_DISPATCH: '%LMQ%a' },
    });
    expect(r.queueOffset).toBe(0);
    expect(store.getMaxOffset('T', 0)).toBe(0);
    expect(store.getMaxOffset('%LMQ%a', 0)).toBe(0);
    expect(decodeRecord((await store.readRecord(r.commitLogOffset))!).body.toString()).toBe('half');
  });
});

describe('LMQ multi-dispatch', () => {
  it('gives the message an entry in each LMQ and writes the offsets back into the record', async () => {
    await store.put({ topic: 'T', queueId: 0, body: body('1'), properties: { INNER_MULTI_DISPATCH: '%LMQ%a,%LMQ%b' } });
    const r = await store.put({ topic: 'T', queueId: 0, body: body('2'), properties: { INNER_MULTI_DISPATCH: '%LMQ%b,%LMQ%c' } });
    expect(r.lmqOffsets).toEqual([1, 0]);
    const b = await store.get('%LMQ%b', 0, 0, 10);
    expect(bodiesOf(b)).toEqual(['1', '2']);
    const m = decodeRecord(b.messages[1]!.record);
    expect(m.topic).toBe('T');
    expect(m.queueOffset).toBe(1);
    expect(m.properties.get('INNER_MULTI_QUEUE_OFFSET')).toBe('1,0');
    expect(b.messages[1]!.queueOffset).toBe(1);
    expect(store.getMaxOffset('%LMQ%c', 0)).toBe(1);
  });

  it('ignores a caller-supplied INNER_MULTI_QUEUE_OFFSET and multi-dispatch on retry topics', async () => {
    const r = await store.put({ topic: 'T', queueId: 0, body: body('x'), properties: { INNER_MULTI_DISPATCH: '%LMQ%a', INNER_MULTI_QUEUE_OFFSET: '99' } });
    expect(r.lmqOffsets).toEqual([0]);
    await store.put({ topic: '%RETRY%g', queueId: 0, body: body('y'), properties: { INNER_MULTI_DISPATCH: '%LMQ%a' } });
    expect(store.getMaxOffset('%LMQ%a', 0)).toBe(1);
  });

  it('wakes arrival listeners of the queues a message lands in', async () => {
    const seen: Array<[string, number]> = [];
    const off = store.onArrival('%LMQ%a', 0, (max) => seen.push(['a', max]));
    store.onArrival('T', 0, (max) => seen.push(['T', max]));
    await store.put({ topic: 'T', queueId: 0, body: body('x'), properties: { INNER_MULTI_DISPATCH: '%LMQ%a' } });
    await store.put({ topic: 'T', queueId: 0, body: body('y') });
    off();
    await store.put({ topic: 'T', queueId: 0, body: body('z'), properties: { INNER_MULTI_DISPATCH: '%LMQ%a' } });
    expect(seen).toEqual([
      ['T', 1],
      ['a', 1],
      ['T', 2],
      ['T', 3],
    ]);
  });
});

describe('appended before written', () => {
  it("reports a message's offsets to onAppended synchronously, before readers can see it", async () => {
    const seen: Array<{ lmqOffsets: number[]; visible: number }> = [];
    const put = store.put({ topic: 'T', queueId: 0, body: body('x'), properties: { INNER_MULTI_DISPATCH: '%LMQ%a' } }, (r) => {
      seen.push({ lmqOffsets: r.lmqOffsets, visible: store.getMaxOffset('%LMQ%a', 0) });
    });
    // Called inside put, before it returned: the message has its offset but is not written yet.
    expect(seen).toEqual([{ lmqOffsets: [0], visible: 0 }]);
    const r = await put;
    expect(r.lmqOffsets).toEqual([0]);
    expect(store.getMaxOffset('%LMQ%a', 0)).toBe(1);
  });

  it('appends without a promise: offsets at once, readable and confirmed after the write, refusals thrown', async () => {
    const a = store.putUnconfirmed({ topic: 'T', queueId: 0, body: body('a'), properties: { INNER_MULTI_DISPATCH: '%LMQ%u' } });
    const b = store.putUnconfirmed({ topic: 'T', queueId: 0, body: body('b') });
    expect([a.queueOffset, b.queueOffset, a.lmqOffsets[0]]).toEqual([0, 1, 0]);
    expect(store.unconfirmedBytes).toBe(a.size + b.size);
    expect(store.getMaxOffset('T', 0)).toBe(0);
    await store.whenConfirmed(b);
    expect(store.unconfirmedBytes).toBe(0);
    expect(bodiesOf(await store.get('T', 0, 0, 10))).toEqual(['a', 'b']);
    expect(a.msgId).toBe(decodeRecord((await store.get('T', 0, 0, 1)).messages[0]!.record).msgId);
    // Already confirmed: resolves at once.
    await store.whenConfirmed(a);
    expect(() => store.putUnconfirmed({ topic: 'T', queueId: -1, body: body('x') })).toThrow(IllegalPutError);
  });

  it('stores the message even when onAppended throws', async () => {
    const r = await store.put({ topic: 'T', queueId: 0, body: body('x') }, () => {
      throw new Error('listener bug');
    });
    expect(bodiesOf(await store.get('T', 0, r.queueOffset, 1))).toEqual(['x']);
  });
});

describe('frozen properties', () => {
  it('writes the same records from frozen properties as from a plain map, keys and tags indexed, the LMQ offsets per message', async () => {
    const entries: Array<[string, string]> = [
      ['TAGS', 't1'],
      ['KEYS', 'k1 k2'],
      ['INNER_MULTI_DISPATCH', '%LMQ%a'],
      ['INNER_MULTI_QUEUE_OFFSET', '99'],
    ];
    const frozen = new FrozenProperties(entries);
    const a = await store.put({ topic: 'T', queueId: 0, body: body('1'), properties: frozen });
    const b = await store.put({ topic: 'T', queueId: 0, body: body('2'), properties: frozen });
    const c = await store.put({ topic: 'T', queueId: 0, body: body('3'), properties: new Map(entries) });
    expect([a, b, c].map((r) => r.lmqOffsets)).toEqual([[0], [1], [2]]);
    const got = await store.get('%LMQ%a', 0, 0, 10);
    const decoded = got.messages.map((m) => decodeRecord(m.record));
    expect(decoded.map((m) => m.body.toString())).toEqual(['1', '2', '3']);
    for (const [i, m] of decoded.entries()) {
      const props = Object.fromEntries(m.properties);
      delete props['__CRC32#']; // the record checksum, different per record
      expect(props).toEqual({ TAGS: 't1', KEYS: 'k1 k2', INNER_MULTI_DISPATCH: '%LMQ%a', INNER_MULTI_QUEUE_OFFSET: String(i) });
    }
    const tagged = await store.get('T', 0, 0, 10, { filter: { matchByTagsCode: (code) => code === javaStringHashCode('t1') } });
    expect(tagged.messages).toHaveLength(3);
    const hits = await store.queryByKey('T', 'k2', 10, 0, Date.now() + 1000);
    expect(hits).toHaveLength(3);
  });

  it('rejects frozen properties holding a separator character, every time', async () => {
    const bad = new FrozenProperties([['K', 'v\u0001x']]);
    await expect(store.put({ topic: 'T', queueId: 0, body: body('1'), properties: bad })).rejects.toBeInstanceOf(IllegalPutError);
    await expect(store.put({ topic: 'T', queueId: 0, body: body('2'), properties: bad })).rejects.toBeInstanceOf(IllegalPutError);
    expect(store.getMaxOffset('T', 0)).toBe(0);
  });
});

describe('arrival notification races', () => {
  it('wakes a listener that subscribed after the append but before the message became readable', async () => {
    await store.put({ topic: 'R', queueId: 0, body: body('first') });
    // Appended (offset taken) with nobody listening; not readable until its write completes.
    const pending = store.put({ topic: 'R', queueId: 0, body: body('second') });
    const maxSeen = store.getMaxOffset('R', 0);
    const woken: number[] = [];
    const off = store.onArrival('R', 0, (max) => woken.push(max));
    await pending;
    off();
    // Either the reader already saw it, or the listener heard of it: never neither.
    expect(maxSeen === 2 || woken.includes(2)).toBe(true);
    expect(maxSeen === 2 ? woken : woken.filter((m) => m === 2)).toEqual(maxSeen === 2 ? [] : [2]);
  });
});

describe('bad input leaves the store unharmed', () => {
  it('rejects each illegal put with a typed error and a clear message', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1);
    await store.close();
    store = await openTestStore(dir, { segmentSize: 16 * 1024 * 1024 });
    await expect(store.put({ topic: 'T', queueId: 0, body: big })).rejects.toThrow(MessageTooLargeError);
    await expect(store.put({ topic: 'T', queueId: 0, body: big })).rejects.toThrow(/maxMessageSize is 4194304/);
    await expect(store.put({ topic: 'bad topic!', queueId: 0, body: body('x') })).rejects.toThrow(IllegalPutError);
    await expect(store.put({ topic: '', queueId: 0, body: body('x') })).rejects.toThrow(/empty/);
    await expect(store.put({ topic: 'x'.repeat(128), queueId: 0, body: body('x') })).rejects.toThrow(/limit is 127/);
    await expect(store.put({ topic: 'T', queueId: -1, body: body('x') })).rejects.toThrow(/queueId/);
    await expect(store.put({ topic: 'T', queueId: 1.5, body: body('x') })).rejects.toThrow(/queueId/);
    for (const list of ['', '%LMQ%a,,%LMQ%b', 'plain', '%LMQ%a,%LMQ%a', '%LMQ%', '%LMQ%a\u0000b', `%LMQ%${'x'.repeat(2000)}`]) {
      await expect(store.put({ topic: 'T', queueId: 0, body: body('x'), properties: { INNER_MULTI_DISPATCH: list } })).rejects.toThrow(
        /INNER_MULTI_DISPATCH is malformed/,
      );
    }
    await expect(store.put({ topic: 'T', queueId: 0, body: body('x'), properties: { KEYS: 'a\u0001b' } })).rejects.toThrow(/separator/);
    await expect(store.put({ topic: 'T', queueId: 0, body: body('x'), properties: { BIG: 'v'.repeat(40_000) } })).rejects.toThrow(IllegalPutError);
    await expect(store.put({ topic: 'T', queueId: 0, body: 'str' as unknown as Buffer })).rejects.toThrow(/Buffer/);
    await expect(
      store.putBatch([
        { topic: 'T', queueId: 0, body: body('ok') },
        { topic: '!', queueId: 0, body: body('x') },
      ]),
    ).rejects.toThrow(IllegalPutError);
    // Nothing of the above was stored; the store still works.
    expect(store.getMaxOffset('T', 0)).toBe(0);
    expect(store.stats().putMessages).toBe(0);
    const ok = await store.put({ topic: 'T', queueId: 0, body: body('fine') });
    expect(ok.queueOffset).toBe(0);
    await store.close();
    store = await openTestStore(dir, { segmentSize: 16 * 1024 * 1024 });
    expect(bodiesOf(await store.get('T', 0, 0, 10))).toEqual(['fine']);
  });

  it('rejects a record larger than a segment', async () => {
    await expect(store.put({ topic: 'T', queueId: 0, body: Buffer.alloc(70 * 1024) })).rejects.toThrow(/does not fit a commit log segment/);
  });
});

describe('data directory', () => {
  it('refuses a second open of a locked directory with a clear error', async () => {
    await expect(openTestStore(dir)).rejects.toThrow(StoreLockedError);
  });

  it('takes over the lock of a dead process', async () => {
    await store.close();
    fs.writeFileSync(path.join(dir, 'lock'), '999999999\n');
    store = await openTestStore(dir);
    expect(store.getMaxOffset('T', 0)).toBe(0);
  });

  it('keeps consumer offsets and topic configs durable across restarts', async () => {
    await store.put({ topic: 'T', queueId: 3, body: body('x') });
    await store.commitOffset('g1', 'T', 3, 1);
    await store.commitOffset('g1', '%LMQ%dev', 0, 7);
    await store.commitOffset('g2', 'T', 3, 0);
    expect(store.getConsumerOffset('g1', 'T', 3)).toBe(1);
    await store.putTopicConfig({
      topicName: 'T',
      readQueueNums: 4,
      writeQueueNums: 4,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
      attributes: {},
    });
    await store.close();
    store = await openTestStore(dir);
    expect(store.getConsumerOffset('g1', 'T', 3)).toBe(1);
    expect(store.getConsumerOffset('g1', '%LMQ%dev', 0)).toBe(7);
    expect(store.getConsumerOffset('g1', 'T', 0)).toBeUndefined();
    expect(store.listConsumerOffsets('g1').sort((a, b) => a.topic.localeCompare(b.topic))).toEqual([
      { topic: '%LMQ%dev', queueId: 0, offset: 7 },
      { topic: 'T', queueId: 3, offset: 1 },
    ]);
    expect(store.getTopicConfig('T')?.readQueueNums).toBe(4);
    await store.deleteConsumerOffsets('g1', 'T');
    expect(store.getConsumerOffset('g1', 'T', 3)).toBeUndefined();
    expect(store.getConsumerOffset('g2', 'T', 3)).toBe(0);
    await store.deleteTopicConfig('T');
    expect(store.listTopicConfigs()).toEqual([]);
  });

  it('gathers offset commits into batches: the last one wins, reads see it at once, close writes what was not awaited', async () => {
    const commits: Array<Promise<void>> = [];
    for (let i = 1; i <= 500; i++) commits.push(store.commitOffset('g', 'T', i % 4, i));
    // Not awaited: read-your-writes comes from the pending batch.
    expect(store.getConsumerOffset('g', 'T', 0)).toBe(500);
    expect(store.getConsumerOffset('g', 'T', 3)).toBe(499);
    // A commit deleted before its batch is written never reappears.
    void store.commitOffset('gone', 'T', 1, 9);
    await store.deleteConsumerOffsets('gone');
    expect(store.getConsumerOffset('gone', 'T', 1)).toBeUndefined();
    void store.commitOffset('late', 'T', 2, 42);
    await store.close();
    store = await openTestStore(dir);
    expect([0, 1, 2, 3].map((q) => store.getConsumerOffset('g', 'T', q))).toEqual([500, 497, 498, 499]);
    expect(store.getConsumerOffset('late', 'T', 2)).toBe(42);
    expect(store.getConsumerOffset('gone', 'T', 1)).toBeUndefined();
    await Promise.all(commits);
  });

  it('keeps the segment size the directory was created with', async () => {
    await store.put({ topic: 'T', queueId: 0, body: body('x') });
    await store.close();
    const log = memoryLogger();
    store = await openTestStore(dir, { segmentSize: 128 * 1024 }, log);
    expect(store.cfg.segmentSize).toBe(64 * 1024);
    expect(log.lines.some((l) => l.msg.includes('segment size'))).toBe(true);
    expect(bodiesOf(await store.get('T', 0, 0, 1))).toEqual(['x']);
  });
});
