import type { IPublishPacket } from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttHarness, eventually, inbox } from './harness.js';

let h: MqttHarness;
beforeEach(async () => {
  h = await MqttHarness.start();
});
afterEach(async () => {
  await h.close();
});

describe('shared subscriptions ($share/<group>/<filter>)', () => {
  for (const protocolVersion of [4, 5] as const) {
    it(`v${protocolVersion}: members split the messages, each delivered once; a plain subscriber still gets all`, async () => {
      const a = await h.connect({ protocolVersion });
      const b = await h.connect({ protocolVersion });
      const all = await h.connect({ protocolVersion });
      const [ga, gb, gall] = [inbox(a), inbox(b), inbox(all)];
      await a.subscribeAsync('$share/workers/jobs/#', { qos: 1 });
      await b.subscribeAsync('$share/workers/jobs/#', { qos: 1 });
      await all.subscribeAsync('jobs/#', { qos: 1 });
      const pub = await h.connect({ protocolVersion });
      for (let i = 0; i < 40; i++) await pub.publishAsync(`jobs/${i}`, `j${i}`, { qos: 1 });
      await eventually(() => ga.length + gb.length >= 40 && gall.length >= 40, 'every job');
      await new Promise((r) => setTimeout(r, 100));
      const shared = [...ga, ...gb].map((m) => m.payload).sort();
      expect(shared).toEqual(Array.from({ length: 40 }, (_, i) => `j${i}`).sort());
      expect(ga.length).toBeGreaterThan(0);
      expect(gb.length).toBeGreaterThan(0);
      expect(gall).toHaveLength(40);
    });
  }

  it('gives the unacknowledged messages of a member that leaves to the others', async () => {
    const { RawClient } = await import('./raw-client.js');
    const { client: lazy } = await RawClient.connect(h.url, { clientId: 'lazy' });
    lazy.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/work', qos: 1 }] });
    await lazy.next('suback');
    const pub = await h.connect({ protocolVersion: 4 });
    for (let i = 0; i < 5; i++) await pub.publishAsync('work', `w${i}`, { qos: 1 });
    // The lazy member takes them all (the only member) and acknowledges none.
    const taken: IPublishPacket[] = [];
    while (taken.length < 5) taken.push((await lazy.until('publish')) as IPublishPacket);
    const eager = await h.connect({ protocolVersion: 4 });
    const got = inbox(eager);
    await eager.subscribeAsync('$share/g/work', { qos: 1 });
    lazy.destroy();
    await eventually(() => got.length >= 5, 'the lazy member’s messages');
    expect(got.map((m) => m.payload).sort()).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
  });

  it('keeps the group position across a restart (persistent member)', async () => {
    const opts = { protocolVersion: 5 as const, clientId: 'sh-keep', clean: false, properties: { sessionExpiryInterval: 600 } };
    const m = await h.connect(opts);
    await m.subscribeAsync('$share/keep/k/#', { qos: 1 });
    await m.endAsync();
    await h.restart();
    const pub = await h.connect({ protocolVersion: 5 });
    await pub.publishAsync('k/1', 'after restart', { qos: 1 });
    let got: ReturnType<typeof inbox> = [];
    await h.connect(opts, (c) => (got = inbox(c)));
    await eventually(() => got.length === 1, 'the message for the shared subscription');
    expect(got[0]!.payload).toBe('after restart');
  });
});
