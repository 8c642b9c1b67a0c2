import { PropertyKey, SCHEDULE_CONSUMER_GROUP, SCHEDULE_TOPIC } from '@apogee/message';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerHarness, props, sendRequest, waitFor } from '../test-support.js';

let h: BrokerHarness;

beforeEach(async () => {
  h = await BrokerHarness.create({ config: { messageDelayLevel: '50ms 100ms 200ms' } });
  await h.broker.topics.createOrUpdate({
    topicName: 'T',
    readQueueNums: 4,
    writeQueueNums: 4,
    perm: 6,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
    attributes: {},
  });
});

afterEach(async () => {
  await h.dispose();
});

const delayed = (body: string, level: number, queueId = 0) =>
  h.broker.sender.send(sendRequest('T', body, { queueId, properties: props({ DELAY: String(level), TAGS: 'tg', KEYS: 'k' }) }));
const delivered = (queueId: number, n: number) => waitFor(() => h.store.getMaxOffset('T', queueId) >= n, `${n} delivered messages in T/${queueId}`);

describe('ScheduleService', () => {
  it('uses the configured levels', () => {
    expect(h.broker.delayLevels).toEqual([50, 100, 200]);
  });

  it('delivers a delayed message to its real topic and queue with DELAY removed and REAL_TOPIC kept', async () => {
    const r = await delayed('hello', 1, 2);
    expect(r).toMatchObject({ topic: SCHEDULE_TOPIC, queueId: 0 });
    expect(h.store.getMaxOffset('T', 2)).toBe(0);
    await delivered(2, 1);
    const [m] = await h.messages('T', 2);
    expect(m!.topic).toBe('T');
    expect(m!.queueId).toBe(2);
    expect(m!.body.toString()).toBe('hello');
    expect(m!.properties.has(PropertyKey.DELAY_TIME_LEVEL)).toBe(false);
    expect(m!.properties.get(PropertyKey.REAL_TOPIC)).toBe('T');
    expect(m!.properties.get(PropertyKey.REAL_QUEUE_ID)).toBe('2');
    expect(m!.properties.get('TAGS')).toBe('tg');
    // a new record, not the schedule one
    expect(m!.commitLogOffset).not.toBe(r.commitLogOffsets[0]);
    // tag filtering works on the delivered copy
    const pulled = await h.broker.puller.pull({
      group: 'g',
      topic: 'T',
      queueId: 2,
      offset: 0,
      maxMsgNums: 32,
      sysFlag: 4,
      suspendTimeoutMs: 0,
      subscription: 'tg',
    });
    expect(pulled.kind).toBe('FOUND');
    await waitFor(() => h.store.getConsumerOffset(SCHEDULE_CONSUMER_GROUP, SCHEDULE_TOPIC, 0) === 1, 'schedule progress committed');
    expect(h.broker.schedule.offsets()[1]).toBe(1);
    expect(h.broker.metrics.delayedDelivered).toBe(1);
  });

  it('keeps the order of messages within a level', async () => {
    for (let i = 0; i < 10; i++) await delayed(`m${i}`, 2, 1);
    await delivered(1, 10);
    const ms = await h.messages('T', 1);
    expect(ms.map((m) => m.body.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it('delivers each level independently into the right queues', async () => {
    await delayed('slow', 3, 0);
    await delayed('fast', 1, 1);
    await delayed('mid', 2, 3);
    await delivered(0, 1);
    await delivered(1, 1);
    await delivered(3, 1);
    expect((await h.messages('T', 0)).map((m) => m.body.toString())).toEqual(['slow']);
    expect((await h.messages('T', 1)).map((m) => m.body.toString())).toEqual(['fast']);
    expect((await h.messages('T', 3)).map((m) => m.body.toString())).toEqual(['mid']);
  });

  it('delivers retry copies from send-back into %RETRY%<group>', async () => {
    const sent = await h.broker.sender.send(sendRequest('T', 'failed', { queueId: 0 }));
    // default level 3 + 0 → the third (200 ms) level
    await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: sent.commitLogOffsets[0]!, delayLevel: 0 });
    await waitFor(() => h.store.getMaxOffset('%RETRY%g', 0) >= 1, 'retry delivery');
    const [m] = await h.messages('%RETRY%g', 0);
    expect(m!.body.toString()).toBe('failed');
    expect(m!.reconsumeTimes).toBe(1);
    expect(m!.properties.get(PropertyKey.RETRY_TOPIC)).toBe('T');
  });

  it('keeps its progress across a broker close and store reopen without re-delivering', async () => {
    for (let i = 0; i < 3; i++) await delayed(`old${i}`, 1, 0);
    await delivered(0, 3);
    await h.reopen();
    expect(h.broker.schedule.offsets()[1]).toBe(3);
    await delayed('new', 1, 0);
    await waitFor(async () => (await h.messages('T', 0)).some((m) => m.body.toString() === 'new'), 'the new message');
    // Level order is kept, so re-delivered old messages would have come before "new".
    expect((await h.messages('T', 0)).map((m) => m.body.toString())).toEqual(['old0', 'old1', 'old2', 'new']);
    expect(h.store.getMaxOffset('T', 0)).toBe(4);
  });

  it('neither loses nor re-delivers when the broker closes in the middle of a delivery batch', async () => {
    const n = 200;
    const sends = [];
    for (let i = 0; i < n; i++) sends.push(delayed(`m${i}`, 1, 3));
    await Promise.all(sends);
    const scheduled = (await h.messages(SCHEDULE_TOPIC, 0, 0, n)).map((m) => m.body.toString());
    expect(scheduled).toHaveLength(n);
    await waitFor(() => h.store.getMaxOffset('T', 3) >= 1, 'the first delivery', 2_000, 1);
    await h.reopen();
    // progress committed at close covers exactly what had been delivered
    expect(h.broker.schedule.offsets()[1]).toBe(h.store.getMaxOffset('T', 3));
    const last = scheduled[n - 1]!;
    await waitFor(
      async () => (await h.messages('T', 3, Math.max(0, h.store.getMaxOffset('T', 3) - 1), 1)).some((m) => m.body.toString() === last),
      'the last message',
    );
    // the level is delivered in order, so re-delivered messages would have come before the last one
    expect(h.store.getMaxOffset('T', 3)).toBe(n);
    expect((await h.messages('T', 3, 0, n)).map((m) => m.body.toString())).toEqual(scheduled);
  });

  it('delivers after a restart what was still pending at shutdown', async () => {
    // level 3 (200 ms): close right away, most likely before it is due; either way it arrives exactly once
    await delayed('pending', 3, 2);
    await h.reopen();
    await delivered(2, 1);
    await waitFor(() => h.store.getConsumerOffset(SCHEDULE_CONSUMER_GROUP, SCHEDULE_TOPIC, 2) === 1, 'schedule progress committed');
    expect((await h.messages('T', 2)).map((m) => m.body.toString())).toEqual(['pending']);
  });
});
