import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IPublishPacket } from 'mqtt-packet';
import { MqttHarness, eventually } from './harness.js';

let h: MqttHarness;
beforeEach(async () => {
  h = await MqttHarness.start();
});
afterEach(async () => {
  await h.close();
});

function packets(c: import('mqtt').MqttClient): IPublishPacket[] {
  const got: IPublishPacket[] = [];
  c.on('message', (_t, _p, packet) => got.push(packet));
  return got;
}

describe('MQTT 5 properties', () => {
  it('carries user properties (order and repeats), content type, payload format, response topic and correlation data', async () => {
    const sub = await h.connect({ protocolVersion: 5 });
    const got = packets(sub);
    await sub.subscribeAsync('props/t', { qos: 1 });
    const pub = await h.connect({ protocolVersion: 5 });
    await pub.publishAsync('props/t', '{"a":1}', {
      qos: 1,
      properties: {
        userProperties: { region: 'eu', tag: ['x', 'y'] },
        contentType: 'application/json',
        payloadFormatIndicator: true,
        responseTopic: 'replies/1',
        correlationData: Buffer.from([1, 2, 3]),
      },
    });
    await eventually(() => got.length === 1, 'the message');
    expect(got[0]!.properties).toMatchObject({
      userProperties: { region: 'eu', tag: ['x', 'y'] },
      contentType: 'application/json',
      payloadFormatIndicator: true,
      responseTopic: 'replies/1',
      correlationData: Buffer.from([1, 2, 3]),
    });
  });

  it('does not deliver an expired message and sends the time left of a live one', async () => {
    const opts = { protocolVersion: 5 as const, clientId: 'exp', clean: false, properties: { sessionExpiryInterval: 600 } };
    const first = await h.connect(opts);
    await first.subscribeAsync('exp/#', { qos: 1 });
    await first.endAsync();
    const pub = await h.connect({ protocolVersion: 5 });
    await pub.publishAsync('exp/short', 'gone', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await pub.publishAsync('exp/long', 'kept', { qos: 1, properties: { messageExpiryInterval: 3600 } });
    await new Promise((r) => setTimeout(r, 1100));
    let got: IPublishPacket[] = [];
    await h.connect(opts, (c) => (got = packets(c)));
    await eventually(() => got.length >= 1, 'the live message');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.map((p) => p.topic)).toEqual(['exp/long']);
    expect(got[0]!.properties!.messageExpiryInterval).toBeGreaterThan(3500);
    expect(got[0]!.properties!.messageExpiryInterval).toBeLessThanOrEqual(3600);
  });

  it('sends subscription identifiers, honours No Local and Retain As Published', async () => {
    const c = await h.connect({ protocolVersion: 5, clientId: 'self' });
    const got = packets(c);
    await c.subscribeAsync('mine/#', { qos: 1, nl: true, properties: { subscriptionIdentifier: 7 } } as never);
    await c.subscribeAsync('rap/#', { qos: 1, rap: true, properties: { subscriptionIdentifier: 9 } } as never);
    await c.publishAsync('mine/own', 'not for me', { qos: 1 });
    const other = await h.connect({ protocolVersion: 5 });
    await other.publishAsync('mine/theirs', 'for me', { qos: 1 });
    await other.publishAsync('rap/x', 'kept flag', { qos: 1, retain: true });
    await eventually(() => got.length >= 2, 'two deliveries');
    await new Promise((r) => setTimeout(r, 100));
    const byTopic = Object.fromEntries(got.map((p) => [p.topic, p]));
    expect(Object.keys(byTopic).sort()).toEqual(['mine/theirs', 'rap/x']);
    expect(byTopic['mine/theirs']!.properties!.subscriptionIdentifier).toBe(7);
    expect(byTopic['rap/x']!.properties!.subscriptionIdentifier).toBe(9);
    expect(byTopic['rap/x']!.retain).toBe(true);
  });

  it('resolves inbound topic aliases and disconnects on a bad one', async () => {
    const sub = await h.connect({ protocolVersion: 5 });
    const got = packets(sub);
    await sub.subscribeAsync('alias/#', { qos: 1 });
    const pub = await h.connect({ protocolVersion: 5, properties: { topicAliasMaximum: 0 } });
    await pub.publishAsync('alias/long/topic/name', 'set', { qos: 1, properties: { topicAlias: 3 } });
    await pub.publishAsync('', 'used', { qos: 1, properties: { topicAlias: 3 } });
    await eventually(() => got.length === 2, 'both messages');
    expect(got.map((p) => [p.topic, p.payload.toString()])).toEqual([
      ['alias/long/topic/name', 'set'],
      ['alias/long/topic/name', 'used'],
    ]);
    // mqtt.js will not send an alias above the server's maximum: a raw client does.
    const { RawClient } = await import('./raw-client.js');
    const { client: bad } = await RawClient.connect(h.url, { clientId: 'bad-alias' }, 5);
    bad.send({ cmd: 'publish', topic: 'alias/x', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, properties: { topicAlias: 5000 } });
    expect(((await bad.next('disconnect')) as import('mqtt-packet').IDisconnectPacket).reasonCode).toBe(0x94);
    const { client: unset } = await RawClient.connect(h.url, { clientId: 'unset-alias' }, 5);
    unset.send({ cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, properties: { topicAlias: 4 } });
    expect(((await unset.next('disconnect')) as import('mqtt-packet').IDisconnectPacket).reasonCode).toBe(0x82);
    bad.destroy();
    unset.destroy();
  });
});

describe('MQTT 5 flow control', () => {
  it('disconnects a client that exceeds the Receive Maximum with 0x93', async () => {
    await h.close();
    h = await MqttHarness.start({ receiveMaximum: 2 });
    const { RawClient } = await import('./raw-client.js');
    const { client: raw, connack } = await RawClient.connect(h.url, { clientId: 'greedy' }, 5);
    expect((connack as import('mqtt-packet').IConnackPacket).properties?.receiveMaximum).toBe(2);
    // Three QoS 2 PUBLISHes without PUBREL: the third exceeds the quota of 2.
    for (let i = 1; i <= 3; i++) raw.send({ cmd: 'publish', topic: 'rm/t', payload: Buffer.from(`m${i}`), qos: 2, messageId: i, dup: false, retain: false });
    expect(((await raw.until('disconnect')) as import('mqtt-packet').IDisconnectPacket).reasonCode).toBe(0x93);
    raw.destroy();
  });
});
