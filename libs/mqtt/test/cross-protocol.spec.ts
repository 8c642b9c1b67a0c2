import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttHarness, eventually, inbox } from './harness.js';

let h: MqttHarness;
beforeEach(async () => {
  h = await MqttHarness.start();
});
afterEach(async () => {
  await h.close();
});

describe('native messages carrying an MQTT topic', () => {
  it('reach MQTT subscribers of matching filters (QoS 1 unless the message says otherwise)', async () => {
    const sub = await h.connect({ protocolVersion: 5 });
    const got = inbox(sub);
    await sub.subscribeAsync('native/+/state', { qos: 1 });
    await h.broker.topics.createOrUpdate({
      topicName: 'native',
      readQueueNums: 1,
      writeQueueNums: 1,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
      attributes: {},
    });
    await h.broker.sender.send({ topic: 'native', queueId: 0, properties: new Map([['mqttTopic', 'native/pump1/state']]), body: Buffer.from('on') });
    await h.broker.sender.send({ topic: 'native', queueId: 0, properties: new Map([['KEYS', 'no-mqtt-topic']]), body: Buffer.from('native only') });
    await h.broker.sender.send({ topic: 'native', queueId: 0, properties: new Map([['mqttTopic', 'bad/+/topic']]), body: Buffer.from('ignored') });
    await eventually(() => got.length === 1, 'the native message');
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([{ topic: 'native/pump1/state', payload: 'on', qos: 1, retain: false }]);
  });
});
