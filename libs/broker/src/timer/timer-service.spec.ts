import { PropertyKey, TIMER_TOPIC, decodeRecord, type MessageExt } from '@apogee/message';
import type { MessageStore, PutMessage } from '@apogee/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { BrokerMetrics } from '../metrics.js';
import { BrokerHarness, brokerError, props, sendRequest, waitFor } from '../test-support.js';
import { TIMER_NAMESPACE } from './timer-key.js';
import { TimerService } from './timer-service.js';
import { topicConfigOf } from '../topic/topic-manager.js';

let h: BrokerHarness;

beforeEach(async () => {
  h = await BrokerHarness.create();
  await h.broker.topics.createOrUpdate(topicConfigOf('T', 2));
});

afterEach(async () => {
  await h.dispose();
});

const timed = (body: string, p: Record<string, string>, queueId = 0) => h.broker.send(sendRequest('T', body, { queueId, properties: props(p) }));
const rows = (store: MessageStore) => [...store.metaScan(TIMER_NAMESPACE)].length;

/** Every message of T/queueId, with the wall-clock time the test first saw each. */
async function collect(queueId: number, n: number): Promise<MessageExt[]> {
  await waitFor(() => h.store.getMaxOffset('T', queueId) >= n, `${n} messages in T/${queueId}`, 800);
  return h.messages('T', queueId, 0, 1000);
}

describe('TimerService', () => {
  it('stores a timer in the timer topic and fires it to its real queue at or after its due time, properties kept', async () => {
    const due = Date.now() + 300;
    const r = await timed('hello', { TIMER_DELIVER_MS: String(due), TAGS: 'tg', user: 'u' }, 1);
    expect(r).toMatchObject({ topic: TIMER_TOPIC, queueId: 0 });
    expect(h.store.getMaxOffset('T', 1)).toBe(0);
    const [m] = await collect(1, 1);
    expect(m!.storeTimestamp).toBeGreaterThanOrEqual(due);
    expect(m!.body.toString()).toBe('hello');
    expect(m!.topic).toBe('T');
    expect(m!.properties.get(PropertyKey.TIMER_OUT_MS)).toBe(String(due));
    expect(m!.properties.get(PropertyKey.TIMER_DELIVER_MS)).toBe(String(due));
    expect(Number(m!.properties.get(PropertyKey.TIMER_DEQUEUE_MS))).toBeGreaterThanOrEqual(due);
    expect(Number(m!.properties.get(PropertyKey.TIMER_ENQUEUE_MS))).toBeLessThan(due);
    expect(m!.properties.get(PropertyKey.TIMER_ORIGIN)).toBe(String(r.commitLogOffsets[0]));
    expect(m!.properties.has(PropertyKey.REAL_TOPIC)).toBe(false);
    expect(m!.properties.get('user')).toBe('u');
    expect(m!.properties.get('TAGS')).toBe('tg');
    await waitFor(() => rows(h.store) === 0, 'the row deleted');
    expect(h.broker.metrics).toMatchObject({ timersScheduled: 1, timersFired: 1, timersPending: 0 });
  });

  it('fires in due order, never before the due time', async () => {
    const base = Date.now() + 200;
    const delays = [250, 50, 400, 0, 150, 300, 100, 350, 200, 20];
    for (const [i, d] of delays.entries()) await timed(`m${i}`, { TIMER_DELIVER_MS: String(base + d), i: String(i) });
    const got = await collect(0, delays.length);
    const dueOf = (m: MessageExt) => base + delays[Number(m.properties.get('i'))]!;
    expect(got.map(dueOf)).toEqual([...delays].sort((a, b) => a - b).map((d) => base + d));
    for (const m of got) expect(m.storeTimestamp).toBeGreaterThanOrEqual(dueOf(m));
  });

  it('stores a timer already due at once, and lets a DELAY level win over timer properties', async () => {
    const past = await timed('past', { TIMER_DELIVER_MS: String(Date.now() - 1000) });
    expect(past.topic).toBe('T');
    const both = await timed('both', { DELAY: '1', TIMER_DELAY_SEC: '100' });
    expect(both.topic).toBe('SCHEDULE_TOPIC_XXXX');
    const [stored] = await h.messages('SCHEDULE_TOPIC_XXXX', 0);
    expect(stored!.properties.has(PropertyKey.TIMER_DELAY_SEC)).toBe(false);
    expect(rows(h.store)).toBe(0);
  });

  it('refuses beyond the max delay, unparsable values, timer batches and sends to the timer topic', async () => {
    const err = await brokerError(() => timed('far', { TIMER_DELAY_SEC: String(3 * 86400 + 1) }), 'MESSAGE_ILLEGAL');
    expect(err.reason).toContain('max delay 259200000ms');
    await brokerError(() => timed('bad', { TIMER_DELAY_MS: 'x' }), 'MESSAGE_ILLEGAL');
    await brokerError(
      () =>
        h.broker.sendBatch({
          topic: 'T',
          queueId: 0,
          properties: props(),
          items: [{ body: Buffer.from('b'), flag: 0, properties: props({ TIMER_DELAY_MS: '5' }) }],
        }),
      'MESSAGE_ILLEGAL',
    );
    await brokerError(() => h.broker.send(sendRequest(TIMER_TOPIC, 'x')), 'NO_PERMISSION');
  });

  it('keeps pending timers across a restart and fires each once', async () => {
    const due = Date.now() + 600;
    for (let i = 0; i < 20; i++) await timed(`r${i}`, { TIMER_DELIVER_MS: String(due + i) });
    await h.broker.timers.caughtUp();
    await h.reopen();
    expect(h.broker.metrics.timersPending).toBe(20);
    const got = await collect(0, 20);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.store.getMaxOffset('T', 0)).toBe(20);
    for (const m of got) expect(m.storeTimestamp).toBeGreaterThanOrEqual(due);
  });

  it('recalls a pending timer by UNIQ_KEY and by offset message id', async () => {
    const due = String(Date.now() + 400);
    const a = await timed('a', { TIMER_DELIVER_MS: due, UNIQ_KEY: 'AAAABBBBCCCCDDDDEEEEFFFF00001111' });
    const b = await timed('b', { TIMER_DELIVER_MS: due });
    await timed('c', { TIMER_DELIVER_MS: due, keep: '1' });
    expect(await h.broker.timers.recall('AAAABBBBCCCCDDDDEEEEFFFF00001111')).toBe('CANCELLED');
    expect(await h.broker.timers.recall(b.msgIds[0]!)).toBe('CANCELLED');
    expect(await h.broker.timers.recall(a.msgIds[0]!)).toBe('NOT_FOUND');
    expect(await h.broker.timers.recall('nothing')).toBe('NOT_FOUND');
    const got = await collect(0, 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.store.getMaxOffset('T', 0)).toBe(1);
    expect(got[0]!.properties.get('keep')).toBe('1');
  });
});

describe('TimerService crash recovery (firing intent)', () => {
  /** Closes the broker's own timer service so a test drives the store with its own services. */
  async function ownServices(): Promise<void> {
    await h.broker.timers.stop();
  }

  /** A put that stores the first `keep` messages of a batch and then "the process dies". */
  function dyingPut(keep: number): { put: (puts: PutMessage[]) => Promise<unknown>; died: Promise<void> } {
    let died!: () => void;
    const diedP = new Promise<void>((r) => (died = r));
    return {
      put: async (puts) => {
        await h.broker.sender.put(puts.slice(0, keep));
        died();
        throw new Error('process died after the put');
      },
      died: diedP,
    };
  }

  it.each([
    ['every put of the batch', 1000],
    ['part of the batch', 3],
    ['none of the batch', 0],
  ])('fires each timer exactly once when the process dies after %s', async (_what, keep) => {
    await ownServices();
    const due = Date.now() + 100;
    for (let i = 0; i < 10; i++) await timed(`x${i}`, { TIMER_DELIVER_MS: String(due), i: String(i) }, i % 2);
    const metrics = new BrokerMetrics();
    const dying = dyingPut(keep);
    const first = new TimerService(h.store, dying.put, metrics, silentLogger);
    first.start();
    await dying.died;
    await first.stop();
    const storedBefore = h.store.getMaxOffset('T', 0) + h.store.getMaxOffset('T', 1);
    expect(storedBefore).toBe(Math.min(keep, 10));
    expect(rows(h.store)).toBe(10);
    const second = new TimerService(h.store, (puts) => h.broker.sender.put(puts), metrics, silentLogger);
    second.start();
    await waitFor(() => rows(h.store) === 0, 'every row fired');
    await second.stop();
    const all = [...(await h.messages('T', 0)), ...(await h.messages('T', 1))];
    expect(all.map((m) => m.properties.get('i')).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    for (const m of all) expect(m.queueId).toBe(Number(m.properties.get('i')) % 2);
  });

  it('fires each timer exactly once when the process dies while a pipelined batch is finishing', async () => {
    await ownServices();
    const due = Date.now() + 100;
    for (let i = 0; i < 10; i++) await timed(`p${i}`, { TIMER_DELIVER_MS: String(due), i: String(i) });
    // Row deletes fail from the fifth on: the first batch of 4 finishes, the second (whose puts
    // are stored) "dies" while finishing, and a third may have been put meanwhile.
    let deletes = 0;
    let died!: () => void;
    const diedP = new Promise<void>((r) => (died = r));
    const dying = new Proxy(h.store, {
      get(target, prop) {
        if (prop === 'metaDelete') {
          return (ns: string, key: string) => {
            if (ns === TIMER_NAMESPACE && ++deletes > 4) {
              died();
              return Promise.reject(new Error('process died while deleting rows'));
            }
            return target.metaDelete(ns, key);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const metrics = new BrokerMetrics();
    const put = (puts: PutMessage[]) => h.broker.sender.put(puts);
    const first = new TimerService(dying, put, metrics, silentLogger, Date.now, { fireBatch: 4 });
    first.start();
    await diedP;
    await first.stop();
    expect(h.store.getMaxOffset('T', 0)).toBeGreaterThanOrEqual(8);
    expect(rows(h.store)).toBeGreaterThan(0);
    const second = new TimerService(h.store, put, metrics, silentLogger, Date.now, { fireBatch: 4 });
    second.start();
    await waitFor(() => rows(h.store) === 0, 'every row fired');
    await second.stop();
    const all = await h.messages('T', 0, 0, 100);
    expect(all.map((m) => m.properties.get('i')).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('does not fire again after a graceful stop mid-load', async () => {
    const due = Date.now() + 50;
    for (let i = 0; i < 300; i++) await timed(`g${i}`, { TIMER_DELIVER_MS: String(due) });
    await waitFor(() => h.store.getMaxOffset('T', 0) > 0, 'some fired');
    await h.reopen();
    await waitFor(() => rows(h.store) === 0, 'all fired');
    const all = await h.messages('T', 0, 0, 1000);
    expect(new Set(all.map((m) => m.body.toString())).size).toBe(300);
    expect(all.length).toBe(300);
  });
});

describe('TimerService and retention', () => {
  it('rolls an old pending record forward, keeps the retention floor below what is pending, and fires once', async () => {
    await h.broker.timers.stop();
    let skew = 0;
    const now = () => Date.now() + skew;
    const put = (puts: PutMessage[]) => h.broker.sender.put(puts);
    const svc = new TimerService(h.store, put, new BrokerMetrics(), silentLogger, now, { rollAgeMs: 3600_000, sweepIntervalMs: 3600_000 });
    const far = Date.now() + 2 * 3600_000;
    const first = await timed('far', { TIMER_DELIVER_MS: String(far), u: 'v' });
    svc.start();
    await svc.caughtUp();
    await svc.sweep();
    // Young and pending: the floor stays at its record.
    expect(h.store.retentionFloor()).toBe(first.commitLogOffsets[0]);
    skew = 3600_000 + 1000; // older than the roll age, due in under an hour
    expect(await svc.sweep()).toBe(1);
    await svc.caughtUp();
    const copies = await h.messages(TIMER_TOPIC, 0);
    expect(copies).toHaveLength(2);
    expect(copies[1]!.properties.get(PropertyKey.TIMER_ORIGIN)).toBe(String(first.commitLogOffsets[0]));
    expect(copies[1]!.properties.get(PropertyKey.TIMER_ROLL_TIMES)).toBe('1');
    const keys = [...h.store.metaScan(TIMER_NAMESPACE)].map((r) => r.key);
    expect(keys).toHaveLength(1);
    skew = 0; // the copy is young (the store's clock is not skewed)
    await svc.sweep();
    // The original is passed: the floor is now the copy.
    expect(h.store.retentionFloor()).toBe(copies[1]!.commitLogOffset);
    await svc.stop();
    skew = 2 * 3600_000 + 1000; // due now
    const again = new TimerService(h.store, put, new BrokerMetrics(), silentLogger, now);
    again.start();
    await waitFor(() => h.store.getMaxOffset('T', 0) === 1, 'the rolled timer fired');
    await new Promise((r) => setTimeout(r, 100));
    await again.stop();
    expect(h.store.getMaxOffset('T', 0)).toBe(1);
    const [m] = await h.messages('T', 0);
    expect(m!.properties.get('u')).toBe('v');
    expect(m!.properties.get(PropertyKey.TIMER_ENQUEUE_MS)).toBe(String(copies[0]!.storeTimestamp));
    expect(m!.properties.get(PropertyKey.TIMER_ORIGIN)).toBe(String(copies[1]!.commitLogOffset));
    expect(decodeRecord((await h.store.get('T', 0, 0, 1)).messages[0]!.record).body.toString()).toBe('far');
  });
});
