import { PropertyKey, SCHEDULE_TOPIC } from '@apogee/message';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerHarness, brokerError, props, sendRequest, type HarnessOptions } from '../test-support.js';

let h: BrokerHarness | undefined;

async function harness(opts: HarnessOptions = {}): Promise<BrokerHarness> {
  h = await BrokerHarness.create(opts);
  return h;
}

afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe('SendService.send', () => {
  it('auto-creates the topic and picks queues round-robin when queueId < 0', async () => {
    const { broker } = await harness();
    const queues: number[] = [];
    for (let i = 0; i < 8; i++) queues.push((await broker.sender.send(sendRequest('RR', `m${i}`, { defaultTopicQueueNums: 4 }))).queueId);
    expect(broker.topics.get('RR')).toMatchObject({ writeQueueNums: 4 });
    expect(queues.slice(0, 4).sort()).toEqual([0, 1, 2, 3]);
    expect(queues.slice(4)).toEqual(queues.slice(0, 4));
    for (let q = 0; q < 4; q++) expect(h!.store.getMaxOffset('RR', q)).toBe(2);
  });

  it('stores to the queue asked for and returns offsets and ids that match the record', async () => {
    const { broker, store } = await harness();
    const r1 = await broker.sender.send(
      sendRequest('T', 'one', { queueId: 2, properties: props({ TAGS: 'a', UNIQ_KEY: 'U1' }), flag: 5, bornTimestamp: 1234 }),
    );
    const r2 = await broker.sender.send(sendRequest('T', 'two', { queueId: 2 }));
    expect(r1).toMatchObject({ topic: 'T', queueId: 2, queueOffset: 0, uniqKeys: ['U1'] });
    expect(r2.queueOffset).toBe(1);
    const [m] = await h!.messages('T', 2);
    expect(m!.body.toString()).toBe('one');
    expect(m!.msgId).toBe(r1.msgIds[0]);
    expect(m!.commitLogOffset).toBe(r1.commitLogOffsets[0]);
    expect(m!.flag).toBe(5);
    expect(m!.bornTimestamp).toBe(1234);
    expect(m!.properties.get('TAGS')).toBe('a');
    expect(store.getMaxOffset('T', 2)).toBe(2);
    expect(broker.metrics.sendMessages).toBe(2);
  });

  it('adds the CLUSTER property', async () => {
    const { broker } = await harness({ config: { clusterName: 'MyCluster' } });
    await broker.sender.send(sendRequest('T', 'x', { queueId: 0 }));
    const [m] = await h!.messages('T', 0);
    expect(m!.properties.get(PropertyKey.CLUSTER)).toBe('MyCluster');
  });

  it('refuses queueId >= writeQueueNums with INVALID_PARAMETER', async () => {
    const { broker } = await harness();
    await broker.sender.send(sendRequest('T', 'x', { queueId: 0, defaultTopicQueueNums: 2 }));
    await brokerError(() => broker.sender.send(sendRequest('T', 'x', { queueId: 2 })), 'INVALID_PARAMETER');
    await brokerError(() => broker.sender.send(sendRequest('T', 'x', { queueId: 99 })), 'INVALID_PARAMETER');
  });

  it('refuses illegal topic names with INVALID_PARAMETER', async () => {
    const { broker } = await harness();
    await brokerError(() => broker.sender.send(sendRequest('bad topic', 'x')), 'INVALID_PARAMETER');
    await brokerError(() => broker.sender.send(sendRequest('x'.repeat(128), 'x')), 'INVALID_PARAMETER');
  });

  it('refuses unknown topics with TOPIC_NOT_EXIST when auto-creation is off', async () => {
    const { broker } = await harness({ config: { autoCreateTopicEnable: false } });
    await brokerError(() => broker.sender.send(sendRequest('Unknown', 'x')), 'TOPIC_NOT_EXIST');
  });

  it.each(['SCHEDULE_TOPIC_XXXX', 'RMQ_SYS_TRANS_HALF_TOPIC', 'rmq_sys_wheel_timer', 'rmq_sys_anything', 'OFFSET_MOVED_EVENT'])(
    'refuses the system topic %s with NO_PERMISSION',
    async (topic) => {
      const { broker } = await harness();
      await brokerError(() => broker.sender.send(sendRequest(topic, 'x')), 'NO_PERMISSION');
    },
  );

  it('refuses direct sends to LMQs with NO_PERMISSION', async () => {
    const { broker } = await harness();
    await brokerError(() => broker.sender.send(sendRequest('%LMQ%a', 'x')), 'NO_PERMISSION');
  });

  it('refuses transactional half messages (sysFlag 0x4 or TRAN_MSG=true) with NO_PERMISSION under rejectTransactionMessage', async () => {
    const { broker, store } = await harness({ config: { rejectTransactionMessage: true } });
    await brokerError(() => broker.sender.send(sendRequest('T', 'x', { queueId: 0, sysFlag: 0x4 })), 'NO_PERMISSION');
    await brokerError(() => broker.sender.send(sendRequest('T', 'x', { queueId: 0, properties: props({ TRAN_MSG: 'true' }) })), 'NO_PERMISSION');
    expect(store.getMaxOffset('T', 0)).toBe(0);
    // commit type (0x8) is a normal message
    await broker.sender.send(sendRequest('T', 'x', { queueId: 0, sysFlag: 0x8 }));
    expect(store.getMaxOffset('T', 0)).toBe(1);
  });

  it('refuses topics without write permission', async () => {
    const { broker } = await harness();
    await broker.topics.createOrUpdate({
      topicName: 'RO',
      readQueueNums: 1,
      writeQueueNums: 1,
      perm: 4,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
      attributes: {},
    });
    await brokerError(() => broker.sender.send(sendRequest('RO', 'x')), 'NO_PERMISSION');
  });

  it('routes a DELAY message into SCHEDULE_TOPIC_XXXX queue level-1 with REAL_TOPIC and REAL_QID', async () => {
    const { broker, store } = await harness();
    const r = await broker.sender.send(sendRequest('T', 'later', { queueId: 1, defaultTopicQueueNums: 4, properties: props({ DELAY: '3' }) }));
    expect(r).toMatchObject({ topic: SCHEDULE_TOPIC, queueId: 2 });
    expect(store.getMaxOffset('T', 1)).toBe(0);
    const [m] = await h!.messages(SCHEDULE_TOPIC, 2);
    expect(m!.topic).toBe(SCHEDULE_TOPIC);
    expect(m!.properties.get(PropertyKey.REAL_TOPIC)).toBe('T');
    expect(m!.properties.get(PropertyKey.REAL_QUEUE_ID)).toBe('1');
    expect(m!.properties.get(PropertyKey.DELAY_TIME_LEVEL)).toBe('3');
    expect(broker.metrics.delayedScheduled).toBe(1);
  });

  it('caps delay levels above the last (18) and ignores level 0', async () => {
    const { broker, store } = await harness();
    const r = await broker.sender.send(sendRequest('T', 'x', { queueId: 0, properties: props({ DELAY: '99' }) }));
    expect(r).toMatchObject({ topic: SCHEDULE_TOPIC, queueId: 17 });
    const [m] = await h!.messages(SCHEDULE_TOPIC, 17);
    expect(m!.properties.get(PropertyKey.DELAY_TIME_LEVEL)).toBe('18');
    const now = await broker.sender.send(sendRequest('T', 'y', { queueId: 0, properties: props({ DELAY: '0' }) }));
    expect(now).toMatchObject({ topic: 'T', queueId: 0 });
    expect(store.getMaxOffset('T', 0)).toBe(1);
  });

  it('sends to %RETRY%g past maxReconsumeTimes into %DLQ%g', async () => {
    const { broker, store } = await harness();
    const ok = await broker.sender.send(sendRequest('%RETRY%g', 'retry', { reconsumeTimes: 3, maxReconsumeTimes: 3 }));
    expect(ok.topic).toBe('%RETRY%g');
    expect(store.getMaxOffset('%RETRY%g', 0)).toBe(1);
    const dead = await broker.sender.send(sendRequest('%RETRY%g', 'dead', { reconsumeTimes: 4, maxReconsumeTimes: 3, properties: props({ DELAY: '3' }) }));
    expect(dead).toMatchObject({ topic: '%DLQ%g', queueId: 0, queueOffset: 0 });
    const [m] = await h!.messages('%DLQ%g', 0);
    expect(m!.body.toString()).toBe('dead');
    expect(m!.properties.has(PropertyKey.DELAY_TIME_LEVEL)).toBe(false);
    expect(broker.topics.get('%DLQ%g')).toMatchObject({ writeQueueNums: 1 });
    expect(broker.metrics.deadLettered).toBe(1);
    // without maxReconsumeTimes the group's retryMaxTimes (16) applies
    const viaGroup = await broker.sender.send(sendRequest('%RETRY%g', 'dead2', { reconsumeTimes: 17 }));
    expect(viaGroup.topic).toBe('%DLQ%g');
    expect(broker.groups.get('g')).toBeDefined();
  });
});

describe('SendService.sendBatch', () => {
  const items = (n: number, extra: Record<string, string> = {}) =>
    Array.from({ length: n }, (_, i) => ({ body: Buffer.from(`b${i}`), flag: 0, properties: props({ UNIQ_KEY: `K${i}`, ...extra }) }));

  it('stores consecutive offsets and returns one msgId per message', async () => {
    const { broker } = await harness();
    await broker.sender.send(sendRequest('B', 'first', { queueId: 1 }));
    const r = await broker.sender.sendBatch({ topic: 'B', queueId: 1, properties: props({ KEYS: 'common' }), items: items(5) });
    expect(r).toMatchObject({ topic: 'B', queueId: 1, queueOffset: 1 });
    expect(r.msgIds).toHaveLength(5);
    expect(new Set(r.msgIds).size).toBe(5);
    expect(r.uniqKeys).toEqual(['K0', 'K1', 'K2', 'K3', 'K4']);
    const ms = await h!.messages('B', 1);
    expect(ms.map((m) => m.body.toString())).toEqual(['first', 'b0', 'b1', 'b2', 'b3', 'b4']);
    expect(ms.slice(1).map((m) => m.queueOffset)).toEqual([1, 2, 3, 4, 5]);
    expect(ms.slice(1).map((m) => m.msgId)).toEqual(r.msgIds);
    for (const m of ms.slice(1)) {
      expect(m.properties.get('KEYS')).toBe('common');
      expect(m.properties.get(PropertyKey.CLUSTER)).toBe('DefaultCluster');
    }
  });

  it('refuses a delayed message in a batch with MESSAGE_ILLEGAL', async () => {
    const { broker, store } = await harness();
    await brokerError(
      () =>
        broker.sender.sendBatch({
          topic: 'B',
          queueId: 0,
          properties: props(),
          items: [...items(2), { body: Buffer.from('d'), flag: 0, properties: props({ DELAY: '2' }) }],
        }),
      'MESSAGE_ILLEGAL',
    );
    await brokerError(() => broker.sender.sendBatch({ topic: 'B', queueId: 0, properties: props({ DELAY: '2' }), items: items(2) }), 'MESSAGE_ILLEGAL');
    expect(store.getMaxOffset('B', 0)).toBe(0);
    expect(store.getMaxOffset(SCHEDULE_TOPIC, 1)).toBe(0);
  });

  it('refuses empty batches and batches to retry topics', async () => {
    const { broker } = await harness();
    await brokerError(() => broker.sender.sendBatch({ topic: 'B', queueId: 0, properties: props(), items: [] }), 'MESSAGE_ILLEGAL');
    await brokerError(() => broker.sender.sendBatch({ topic: '%RETRY%g', queueId: 0, properties: props(), items: items(1) }), 'MESSAGE_ILLEGAL');
  });
});

describe('store errors', () => {
  it('maps an oversize body to MESSAGE_ILLEGAL and counts the failure', async () => {
    const { broker, store } = await harness({ store: { maxMessageSize: 1024 } });
    const err = await brokerError(() => broker.sender.send(sendRequest('T', 'x'.repeat(2048), { queueId: 0 })), 'MESSAGE_ILLEGAL');
    expect(err.reason).not.toMatch(/^APG_/);
    expect(broker.metrics.sendFailures).toBe(1);
    expect(broker.metrics.putsInFlight).toBe(0);
    await brokerError(
      () => broker.sender.sendBatch({ topic: 'T', queueId: 0, properties: props(), items: [{ body: Buffer.alloc(2048), flag: 0, properties: props() }] }),
      'MESSAGE_ILLEGAL',
    );
    expect(store.getMaxOffset('T', 0)).toBe(0);
    await broker.sender.send(sendRequest('T', 'small', { queueId: 0 }));
    expect(store.getMaxOffset('T', 0)).toBe(1);
  });

  it('maps a closed store to SERVICE_NOT_AVAILABLE with a STORE_CLOSED refusal', async () => {
    const { broker, store } = await harness();
    await broker.sender.send(sendRequest('T', 'x', { queueId: 0 }));
    await store.close();
    const err = await brokerError(() => broker.sender.send(sendRequest('T', 'y', { queueId: 0 })), 'SERVICE_NOT_AVAILABLE');
    expect(err.reason).toContain('STORE_CLOSED');
    expect(broker.metrics.refusals.STORE_CLOSED).toBe(1);
  });
});

describe('SendService.sendUnconfirmed', () => {
  it('appends to an existing topic at once, and says null for a topic that must be resolved first', async () => {
    const { broker, store } = await harness();
    expect(broker.sender.sendUnconfirmed(sendRequest('NEW', 'x', { queueId: 0 }))).toBeNull();
    expect(broker.topics.get('NEW')).toBeUndefined();
    expect(broker.sender.sendUnconfirmed(sendRequest('%RETRY%g', 'x', { queueId: 0 }))).toBeNull();
    await broker.sender.send(sendRequest('T', 'first', { queueId: 1 }));
    const sent = broker.sender.sendUnconfirmed(sendRequest('T', 'second', { queueId: 1, properties: props({ TAGS: 'a' }) }));
    expect(sent).toMatchObject({ topic: 'T', queueId: 1, result: { queueOffset: 1 } });
    await store.whenConfirmed(sent!.result);
    const msgs = await h!.messages('T', 1);
    expect(msgs.map((m) => m.body.toString())).toEqual(['first', 'second']);
    expect(msgs[1]!.properties.get(PropertyKey.CLUSTER)).toBeDefined();
    expect(broker.metrics.sendMessages).toBe(2);
  });

  it('throws the broker errors send would reject with', async () => {
    const { broker } = await harness();
    await broker.sender.send(sendRequest('T', 'first', { queueId: 0 }));
    expect(() => broker.sender.sendUnconfirmed(sendRequest('T', 'x', { queueId: 99 }))).toThrow(expect.objectContaining({ kind: 'INVALID_PARAMETER' }));
    expect(() => broker.sender.sendUnconfirmed(sendRequest('bad topic!', 'x', { queueId: 0 }))).toThrow();
  });
});
