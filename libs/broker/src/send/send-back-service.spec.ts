import { PropertyKey, SCHEDULE_TOPIC } from '@apogee/message';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerHarness, brokerError, props, sendRequest } from '../test-support.js';

let h: BrokerHarness;

beforeEach(async () => {
  h = await BrokerHarness.create();
});

afterEach(async () => {
  await h.dispose();
});

async function original(over: Parameters<typeof sendRequest>[2] = {}) {
  return h.broker.sender.send(
    sendRequest('T', 'payload', { queueId: 0, flag: 3, bornTimestamp: 4242, properties: props({ TAGS: 'tg', KEYS: 'k1', UNIQ_KEY: 'UNIQ-1' }), ...over }),
  );
}

describe('SendBackService', () => {
  it('copies the message into %RETRY%g via the schedule topic at level 3 + reconsumeTimes', async () => {
    const sent = await original();
    const res = await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: sent.commitLogOffsets[0]!, delayLevel: 0 });
    expect(res).toEqual({ topic: '%RETRY%g', deadLettered: false, delayLevel: 3 });
    expect(h.broker.topics.get('%RETRY%g')).toMatchObject({ writeQueueNums: 1 });
    expect(h.store.getMaxOffset('%RETRY%g', 0)).toBe(0); // not yet: delayed
    const [m] = await h.messages(SCHEDULE_TOPIC, 2);
    expect(m).toBeDefined();
    expect(m!.body.toString()).toBe('payload');
    expect(m!.flag).toBe(3);
    expect(m!.bornTimestamp).toBe(4242);
    expect(m!.reconsumeTimes).toBe(1);
    const p = m!.properties;
    expect(p.get(PropertyKey.DELAY_TIME_LEVEL)).toBe('3');
    expect(p.get(PropertyKey.REAL_TOPIC)).toBe('%RETRY%g');
    expect(p.get(PropertyKey.REAL_QUEUE_ID)).toBe('0');
    expect(p.get(PropertyKey.RETRY_TOPIC)).toBe('T');
    expect(p.get(PropertyKey.ORIGIN_MESSAGE_ID)).toBe(sent.msgIds[0]);
    expect(p.get('TAGS')).toBe('tg');
    expect(p.get('KEYS')).toBe('k1');
    expect(h.broker.metrics.sendBacks).toBe(1);
  });

  it('grows the level with reconsumeTimes, honours an explicit level and keeps an existing RETRY_TOPIC and ORIGIN_MESSAGE_ID', async () => {
    const sent = await original({ reconsumeTimes: 2, properties: props({ RETRY_TOPIC: 'First', ORIGIN_MESSAGE_ID: 'ORIG' }) });
    const res = await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: sent.commitLogOffsets[0]!, delayLevel: 0, originMsgId: 'IGNORED' });
    expect(res.delayLevel).toBe(5);
    const [m] = await h.messages(SCHEDULE_TOPIC, 4);
    expect(m!.reconsumeTimes).toBe(3);
    expect(m!.properties.get(PropertyKey.RETRY_TOPIC)).toBe('First');
    expect(m!.properties.get(PropertyKey.ORIGIN_MESSAGE_ID)).toBe('ORIG');

    const plain = await original();
    const explicit = await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: plain.commitLogOffsets[0]!, delayLevel: 1, originMsgId: 'FROM-CLIENT' });
    expect(explicit.delayLevel).toBe(1);
    const [e] = await h.messages(SCHEDULE_TOPIC, 0);
    expect(e!.properties.get(PropertyKey.ORIGIN_MESSAGE_ID)).toBe('FROM-CLIENT');
  });

  it('dead-letters into %DLQ%g once reconsumeTimes reaches the max', async () => {
    const sent = await original({ reconsumeTimes: 3 });
    const res = await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: sent.commitLogOffsets[0]!, delayLevel: 0, maxReconsumeTimes: 3 });
    expect(res).toMatchObject({ topic: '%DLQ%g', deadLettered: true });
    expect(h.broker.topics.get('%DLQ%g')).toMatchObject({ writeQueueNums: 1, readQueueNums: 1 });
    const [m] = await h.messages('%DLQ%g', 0);
    expect(m!.topic).toBe('%DLQ%g');
    expect(m!.body.toString()).toBe('payload');
    expect(m!.reconsumeTimes).toBe(4);
    expect(m!.properties.get(PropertyKey.DLQ_ORIGIN_TOPIC)).toBe('T');
    expect(m!.properties.get(PropertyKey.DLQ_ORIGIN_MESSAGE_ID)).toBe('UNIQ-1');
    expect(m!.properties.has(PropertyKey.DELAY_TIME_LEVEL)).toBe(false);
    expect(h.broker.metrics.deadLettered).toBe(1);
    // the group's retryMaxTimes (default 16) applies when the client gives none
    const old = await original({ reconsumeTimes: 16 });
    expect((await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: old.commitLogOffsets[0]!, delayLevel: 0 })).deadLettered).toBe(true);
    const young = await original({ reconsumeTimes: 15 });
    expect((await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: young.commitLogOffsets[0]!, delayLevel: 0 })).deadLettered).toBe(false);
  });

  it('dead-letters at once when delayLevel < 0', async () => {
    const sent = await original();
    const res = await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: sent.commitLogOffsets[0]!, delayLevel: -1 });
    expect(res.deadLettered).toBe(true);
    const [m] = await h.messages('%DLQ%g', 0);
    expect(m!.reconsumeTimes).toBe(1);
    expect(m!.properties.get(PropertyKey.DLQ_ORIGIN_TOPIC)).toBe('T');
  });

  it('keeps the origin topic of a retry message when dead-lettering it', async () => {
    const sent = await h.broker.sender.send(sendRequest('%RETRY%g', 'again', { properties: props({ RETRY_TOPIC: 'Orig' }), reconsumeTimes: 5 }));
    await h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: sent.commitLogOffsets[0]!, delayLevel: 0, maxReconsumeTimes: 5 });
    const [m] = await h.messages('%DLQ%g', 0);
    expect(m!.properties.get(PropertyKey.DLQ_ORIGIN_TOPIC)).toBe('Orig');
  });

  it('fails for an unknown or illegal commit-log offset', async () => {
    const sent = await original();
    await brokerError(() => h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: sent.commitLogOffsets[0]! + 1, delayLevel: 0 }), 'SYSTEM_ERROR');
    await brokerError(() => h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: 50_000_000, delayLevel: 0 }), 'SYSTEM_ERROR');
    await brokerError(() => h.broker.sendBack.sendBack({ group: 'g', commitLogOffset: -1, delayLevel: 0 }), 'INVALID_PARAMETER');
    expect(h.broker.metrics.sendBacks).toBe(0);
  });
});
