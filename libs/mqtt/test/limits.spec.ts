import { afterEach, describe, expect, it } from 'vitest';
import { MqttHarness, eventually, inbox } from './harness.js';

let h: MqttHarness;
afterEach(async () => {
  await h.close();
});

describe('limits, MQTT 3.1 and CONNACK extras', () => {
  it('keeps at most maxQueuedPerSubscription messages for an offline session (oldest skipped, counted)', async () => {
    h = await MqttHarness.start({ maxQueuedPerSubscription: 3 });
    const opts = { protocolVersion: 4 as const, clientId: 'q-limit', clean: false };
    const first = await h.connect(opts);
    await first.subscribeAsync('backlog/#', { qos: 1 });
    await first.endAsync();
    const pub = await h.connect({ protocolVersion: 4 });
    for (let i = 0; i < 10; i++) await pub.publishAsync(`backlog/${i}`, `m${i}`, { qos: 1 });
    let got: ReturnType<typeof inbox> = [];
    await h.connect(opts, (c) => (got = inbox(c)));
    await eventually(() => got.length >= 3, 'the newest three');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.map((m) => m.payload)).toEqual(['m7', 'm8', 'm9']);
    expect(h.gateway.stats().droppedOffline).toBe(7);
    expect(h.gateway.stats().messagesOut).toBe(3);
  });

  it('delivers everything, in publish order per topic, to many QoS 1 subscriptions sharing a small in-flight window', async () => {
    // 30 subscriptions, 2 in-flight slots: most subscriptions wait for room and must all resume,
    // also when the ones resumed first have nothing left to send.
    h = await MqttHarness.start({ maxInflight: 2 });
    const sub = await h.connect({ protocolVersion: 4, clientId: 'window-sub' });
    const got = inbox(sub);
    for (let t = 0; t < 30; t++) await sub.subscribeAsync(`win/${t}`, { qos: 1 });
    const pub = await h.connect({ protocolVersion: 4 });
    const sent: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (let t = 0; t < 30; t++) {
        // Uneven backlogs: some topics get more messages than others.
        if (round > 0 && t % (round + 1) !== 0) continue;
        sent.push(`${t}:${round}`);
        void pub.publishAsync(`win/${t}`, `${t}:${round}`, { qos: 1 });
      }
    }
    await eventually(() => got.length >= sent.length, `all ${sent.length} messages`);
    expect(got.map((m) => m.payload).sort()).toEqual([...sent].sort());
    // Per topic, order is kept.
    for (let t = 0; t < 30; t++) {
      const mine = got.filter((m) => m.topic === `win/${t}`).map((m) => m.payload);
      expect(mine).toEqual(sent.filter((p) => p.startsWith(`${t}:`)));
    }
  });

  it('speaks MQTT 3.1 (MQIsdp, protocol level 3)', async () => {
    h = await MqttHarness.start();
    const sub = await h.connect({ protocolId: 'MQIsdp', protocolVersion: 3, clientId: 'old-sub' });
    const got = inbox(sub);
    await sub.subscribeAsync('legacy/#', { qos: 1 });
    const pub = await h.connect({ protocolId: 'MQIsdp', protocolVersion: 3, clientId: 'old-pub' });
    await pub.publishAsync('legacy/x', 'v3.1', { qos: 1 });
    await eventually(() => got.length === 1, 'the 3.1 message');
    expect(got[0]).toMatchObject({ topic: 'legacy/x', payload: 'v3.1', qos: 1 });
  });

  it('answers Request Response Information with a response topic prefix', async () => {
    h = await MqttHarness.start();
    let info: string | undefined;
    await h.connect({ protocolVersion: 5, clientId: 'asker', properties: { requestResponseInformation: true } }, (c) =>
      c.once('connect', (ack) => (info = ack.properties?.responseInformation)),
    );
    expect(info).toBe('reply/asker/');
  });
});
