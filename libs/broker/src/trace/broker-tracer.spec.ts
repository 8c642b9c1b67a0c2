import { BROKER_TRACE_TOPIC, type BrokerTraceRecord, PropertyKey, TRACE_TOPIC, decodeRecord, decodeTraceRecords } from '@apogee/message';
import type { PutMessage, PutResult } from '@apogee/store';
import { afterEach, describe, expect, it } from 'vitest';
import { BROKER_DEFAULTS, resolveBrokerConfig } from '../config.js';
import { silentLogger } from '../logger.js';
import { BrokerHarness, props, sendRequest, waitFor } from '../test-support.js';
import { BrokerTracer, type DeliveryEvent } from './broker-tracer.js';

let h: BrokerHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

/** The broker records stored under `key` in the broker trace topic. */
async function recordsFor(harness: BrokerHarness, key: string): Promise<BrokerTraceRecord[]> {
  await harness.broker.tracer.flush();
  const hits = await harness.broker.query.byKey(BROKER_TRACE_TOPIC, key, 64, 0, 0, false);
  return hits
    .flatMap((hit) => decodeTraceRecords(decodeRecord(hit.record).body).records as BrokerTraceRecord[])
    .filter((r) => r.msgId === key || r.offsetMsgId === key);
}

const delivery = (i: number): DeliveryEvent => ({
  protocol: 'mqtt',
  group: '%LMQ%a',
  client: 'c1',
  remoteAddress: '127.0.0.1:1',
  topic: '%LMQ%a',
  queueId: 0,
  queueOffset: i,
  commitLogOffset: i * 100,
  properties: new Map([[PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, `U${i}`]]),
  reconsumeTimes: 0,
});

describe('BrokerTracer', () => {
  it('creates the clients’ and the broker’s trace topics at start, one queue each', async () => {
    h = await BrokerHarness.create();
    for (const t of [TRACE_TOPIC, BROKER_TRACE_TOPIC]) expect(h.broker.topics.get(t)).toMatchObject({ readQueueNums: 1, writeQueueNums: 1, perm: 6 });
  });

  it('creates neither when switched off, and answers no send with a record', async () => {
    h = await BrokerHarness.create({ config: { traceTopicEnable: false, brokerTraceEnable: false } });
    expect(h.broker.topics.get(TRACE_TOPIC)).toBeUndefined();
    expect(h.broker.topics.get(BROKER_TRACE_TOPIC)).toBeUndefined();
    expect(h.broker.tracer.watchesSend('%RETRY%g')).toBe(false);
  });

  it('refuses client sends to the broker trace topic (a system topic)', async () => {
    h = await BrokerHarness.create();
    await expect(h.broker.send(sendRequest(BROKER_TRACE_TOPIC, 'x', { queueId: 0 }))).rejects.toMatchObject({ kind: 'NO_PERMISSION' });
  });

  it('records a retry and a dead letter of CONSUMER_SEND_MSG_BACK, found by the message id', async () => {
    h = await BrokerHarness.create();
    const sent = await h.broker.send(sendRequest('T', 'p', { queueId: 0, properties: props({ [PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX]: 'UNIQ-R' }) }));
    await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: sent.commitLogOffsets[0]!, delayLevel: 0, remoteAddress: '10.0.0.1:5' });
    await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: sent.commitLogOffsets[0]!, delayLevel: -1 });
    const recs = await recordsFor(h, 'UNIQ-R');
    expect(recs.map((r) => [r.type, r.group, r.target, r.reconsumeTimes])).toEqual([
      ['Retry', 'g', '%RETRY%g', 1],
      ['DeadLetter', 'g', '%DLQ%g', 1],
    ]);
    expect(recs[0]).toMatchObject({ topic: 'T', queueId: 0, queueOffset: 0, offsetMsgId: sent.msgIds[0], remoteAddress: '10.0.0.1:5', brokerName: 'broker-a' });
    // Keyed by the UNIQ_KEY only; a message without one by its offset id.
    expect(await recordsFor(h, sent.msgIds[0]!)).toEqual([]);
    const bare = await h.broker.send(sendRequest('T', 'p', { queueId: 0 }));
    await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: bare.commitLogOffsets[0]!, delayLevel: 0 });
    expect((await recordsFor(h, bare.msgIds[0]!)).map((r) => [r.type, r.msgId])).toEqual([['Retry', bare.msgIds[0]]]);
  });

  it('records a consumer’s own copy to its retry topic (the fallback) as a retry, and past the max as a dead letter', async () => {
    h = await BrokerHarness.create();
    const copy = (reconsumeTimes: number) =>
      sendRequest('%RETRY%g', 'p', { queueId: 0, reconsumeTimes, maxReconsumeTimes: 1, properties: props({ UNIQ_KEY: 'UNIQ-C', RETRY_TOPIC: 'T' }) });
    await h.broker.send(copy(1));
    await h.broker.send(copy(2));
    const recs = await recordsFor(h, 'UNIQ-C');
    expect(recs.map((r) => [r.type, r.topic, r.target])).toEqual([
      ['Retry', 'T', '%RETRY%g'],
      ['DeadLetter', 'T', '%DLQ%g'],
    ]);
  });

  it('writes no store or delivery record unless brokerTraceDeliveries is on', async () => {
    h = await BrokerHarness.create();
    expect(h.broker.tracer.deliveries).toBe(false);
    expect(h.broker.tracer.watchesSend('T')).toBe(false);
    await h.broker.send(sendRequest('T', 'p', { queueId: 0, properties: props({ UNIQ_KEY: 'UNIQ-S' }) }));
    h.broker.tracer.delivered(delivery(1));
    expect(await recordsFor(h, 'UNIQ-S')).toEqual([]);
    expect(h.broker.tracer.counts.written).toBe(0);
  });

  it('with brokerTraceDeliveries: Store per message sent (one send, a batch, unconfirmed) and Deliver per delivery', async () => {
    h = await BrokerHarness.create({ config: { brokerTraceDeliveries: true } });
    await h.broker.send(sendRequest('T', 'p', { queueId: 0, producerGroup: 'pg', properties: props({ UNIQ_KEY: 'UNIQ-S' }) }));
    await h.broker.sendBatch({
      topic: 'T',
      queueId: 1,
      properties: new Map(),
      items: [1, 2].map((i) => ({ body: Buffer.from('b'), flag: 0, properties: props({ UNIQ_KEY: `UNIQ-B${i}` }) })),
    });
    h.broker.sendUnconfirmed(sendRequest('T', 'p', { queueId: 2, properties: props({ UNIQ_KEY: 'UNIQ-N' }) }));
    h.broker.tracer.delivered(delivery(7));
    expect((await recordsFor(h, 'UNIQ-S'))[0]).toMatchObject({ type: 'Store', topic: 'T', queueId: 0, queueOffset: 0, group: 'pg' });
    expect((await recordsFor(h, 'UNIQ-B2'))[0]).toMatchObject({ type: 'Store', queueId: 1, queueOffset: 1 });
    expect((await recordsFor(h, 'UNIQ-N'))[0]).toMatchObject({ type: 'Store', queueId: 2 });
    const [d] = await recordsFor(h, 'U7');
    expect(d).toMatchObject({ type: 'Deliver', protocol: 'mqtt', client: 'c1', queueOffset: 7, offsetMsgId: h.store.offsetMessageId(700) });
  });

  it('batches records into trace messages of at most 100, one write at a time', async () => {
    const puts: PutMessage[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const put = async (p: PutMessage[]): Promise<PutResult[]> => {
      puts.push(p);
      await gate;
      return [];
    };
    const t = new BrokerTracer(resolveBrokerConfig({ brokerTraceDeliveries: true }), (o) => `OFF${o}`, put, silentLogger);
    for (let i = 0; i < 250; i++) t.delivered(delivery(i));
    // The first 100 went at once; the rest wait for that write.
    expect(puts.map((p) => p.length)).toEqual([1]);
    release();
    await t.close();
    const bodies = puts.flat().map((m) => decodeTraceRecords(m.body).records.length);
    expect(bodies).toEqual([100, 100, 50]);
    expect(t.counts).toEqual({ written: 250, dropped: 0, failed: 0 });
    const first = puts[0]![0]!;
    expect(first.topic).toBe(BROKER_TRACE_TOPIC);
    expect((first.properties as Map<string, string>).get(PropertyKey.KEYS)!.split(' ')).toContain('U0');
  });

  it('drops records past brokerTraceMaxPending and counts failed writes, never throwing', async () => {
    let fail = true;
    const put = async (): Promise<PutResult[]> => {
      if (fail) throw new Error('disk full');
      return [];
    };
    const t = new BrokerTracer({ ...BROKER_DEFAULTS, brokerTraceDeliveries: true, brokerTraceMaxPending: 10 }, (o) => `OFF${o}`, put, silentLogger);
    for (let i = 0; i < 15; i++) t.delivered(delivery(i));
    expect(t.counts.dropped).toBe(5);
    await t.flush();
    expect(t.counts.failed).toBe(10);
    fail = false;
    t.delivered(delivery(99));
    await waitFor(() => t.counts.written === 1, 'the timer-driven write of a partial batch');
    await t.close();
  });
});
