import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttHarness, eventually, inbox } from './harness.js';

let h: MqttHarness;
beforeEach(async () => {
  h = await MqttHarness.start();
});
afterEach(async () => {
  await h.close();
});

describe('QoS 2 end to end', () => {
  for (const protocolVersion of [4, 5] as const) {
    it(`v${protocolVersion}: each message arrives exactly once at QoS 2, in order`, async () => {
      const sub = await h.connect({ protocolVersion });
      const got = inbox(sub);
      const granted = await sub.subscribeAsync('exact/#', { qos: 2 });
      expect(granted[0]!.qos).toBe(2);
      const pub = await h.connect({ protocolVersion });
      for (let i = 0; i < 50; i++) await pub.publishAsync('exact/once', `m${i}`, { qos: 2 });
      await eventually(() => got.length >= 50, 'fifty messages');
      await pub.publishAsync('exact/sentinel', 'end', { qos: 2 });
      await eventually(() => got.some((m) => m.topic === 'exact/sentinel'), 'the sentinel');
      const bodies = got.filter((m) => m.topic === 'exact/once');
      expect(bodies.map((m) => m.payload)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
      expect(bodies.every((m) => m.qos === 2)).toBe(true);
    });
  }

  it('delivers at the lower of publish and subscription QoS', async () => {
    const sub = await h.connect({ protocolVersion: 5 });
    const got = inbox(sub);
    await sub.subscribeAsync('mix/two', { qos: 2 });
    await sub.subscribeAsync('mix/one', { qos: 1 });
    const pub = await h.connect({ protocolVersion: 5 });
    await pub.publishAsync('mix/two', 'a', { qos: 1 });
    await pub.publishAsync('mix/one', 'b', { qos: 2 });
    await eventually(() => got.length === 2, 'both');
    expect(got.map((m) => [m.topic, m.qos]).sort()).toEqual([
      ['mix/one', 1],
      ['mix/two', 1],
    ]);
  });
});

describe('QoS 2 outbound across a reconnect', () => {
  it('continues with PUBREL (not a second PUBLISH) once the client acknowledged with PUBREC', async () => {
    const { RawClient } = await import('./raw-client.js');
    const { client: raw } = await RawClient.connect(h.url, { clientId: 'rawq2', clean: false });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2/t', qos: 2 }] });
    await raw.next('suback');
    const pub = await h.connect({ protocolVersion: 4 });
    await pub.publishAsync('q2/t', 'once', { qos: 2 });
    const publish = (await raw.next('publish')) as import('mqtt-packet').IPublishPacket;
    expect(publish.qos).toBe(2);
    raw.send({ cmd: 'pubrec', messageId: publish.messageId! });
    expect((await raw.next('pubrel')).messageId).toBe(publish.messageId);
    raw.destroy(); // gone before PUBCOMP
    const { client: again, connack } = await RawClient.connect(h.url, { clientId: 'rawq2', clean: false });
    expect((connack as import('mqtt-packet').IConnackPacket).sessionPresent).toBe(true);
    expect((await again.next('pubrel')).messageId).toBe(publish.messageId);
    again.send({ cmd: 'pubcomp', messageId: publish.messageId! });
    // Nothing else pending: a ping is answered next, no re-sent PUBLISH.
    again.send({ cmd: 'pingreq' });
    await again.next('pingresp');
    again.destroy();
  });
});

describe('redelivery of unacknowledged messages on resume', () => {
  it('re-sends an unacknowledged QoS 1 message matched by two overlapping subscriptions', async () => {
    const { RawClient } = await import('./raw-client.js');
    const { client: raw } = await RawClient.connect(h.url, { clientId: 'overlap', clean: false });
    raw.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [
        { topic: 'ov/#', qos: 1 },
        { topic: 'ov/+', qos: 1 },
      ],
    });
    await raw.next('suback');
    const pub = await h.connect({ protocolVersion: 4 });
    await pub.publishAsync('ov/x', 'once', { qos: 1 });
    const first = (await raw.until('publish')) as import('mqtt-packet').IPublishPacket;
    expect(first.payload.toString()).toBe('once');
    raw.destroy(); // never acknowledged
    const { client: again } = await RawClient.connect(h.url, { clientId: 'overlap', clean: false });
    const redelivered = (await again.until('publish')) as import('mqtt-packet').IPublishPacket;
    expect(redelivered.payload.toString()).toBe('once');
    again.send({ cmd: 'puback', messageId: redelivered.messageId! });
    again.destroy();
  });
});

describe('QoS 2 inbound exactly once across a restart', () => {
  it('does not store a QoS 2 PUBLISH twice when the client re-sends it after a restart', async () => {
    const { RawClient } = await import('./raw-client.js');
    const watcher = await h.connect({ protocolVersion: 5, clientId: 'q2-watch', clean: false, properties: { sessionExpiryInterval: 600 } });
    await watcher.subscribeAsync('dedup/#', { qos: 2 });
    await watcher.endAsync();
    const { client: raw } = await RawClient.connect(h.url, { clientId: 'q2-resend', clean: false });
    const publish = { cmd: 'publish' as const, topic: 'dedup/t', payload: Buffer.from('only once'), qos: 2 as const, messageId: 9, dup: false, retain: false };
    raw.send(publish);
    expect((await raw.until('pubrec')).messageId).toBe(9);
    raw.destroy(); // as if the PUBREC had been lost with the connection
    await h.restart();
    const { client: again } = await RawClient.connect(h.url, { clientId: 'q2-resend', clean: false });
    again.send({ ...publish, dup: true });
    expect((await again.until('pubrec')).messageId).toBe(9);
    again.send({ cmd: 'pubrel', messageId: 9 });
    await again.until('pubcomp');
    again.destroy();
    let got: ReturnType<typeof inbox> = [];
    await h.connect({ protocolVersion: 5, clientId: 'q2-watch', clean: false, properties: { sessionExpiryInterval: 600 } }, (c) => (got = inbox(c)));
    await eventually(() => got.length >= 1, 'the message');
    await new Promise((r) => setTimeout(r, 200));
    expect(got.map((m) => m.payload)).toEqual(['only once']);
  });
});
