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
    await h.connect({ protocolVersion: 5, clientId: 'asker', properties: { requestResponseInformation: true } }, (c) => c.once('connect', (ack) => (info = ack.properties?.responseInformation)));
    expect(info).toBe('reply/asker/');
  });
});
