import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttHarness, eventually, inbox } from './harness.js';

let h: MqttHarness;
beforeEach(async () => {
  h = await MqttHarness.start();
});
afterEach(async () => {
  await h.close();
});

describe('will messages', () => {
  for (const protocolVersion of [4, 5] as const) {
    it(`v${protocolVersion}: published when the connection is lost, not after a normal DISCONNECT`, async () => {
      const watcher = await h.connect({ protocolVersion });
      const got = inbox(watcher);
      await watcher.subscribeAsync('wills/#', { qos: 1 });
      const polite = await h.connect({ protocolVersion, will: { topic: 'wills/polite', payload: Buffer.from('gone'), qos: 1, retain: false } });
      await polite.endAsync();
      const crashy = await h.connect({ protocolVersion, will: { topic: 'wills/crashy', payload: Buffer.from('lost'), qos: 1, retain: true } });
      crashy.stream.destroy();
      await eventually(() => got.length >= 1, 'the will');
      await watcher.publishAsync('wills/sentinel', 's', { qos: 1 });
      await eventually(() => got.some((m) => m.topic === 'wills/sentinel'), 'the sentinel');
      expect(got.filter((m) => m.topic !== 'wills/sentinel').map((m) => [m.topic, m.payload])).toEqual([['wills/crashy', 'lost']]);
      // A retained will is retained.
      const late = await h.connect({ protocolVersion });
      const lateGot = inbox(late);
      await late.subscribeAsync('wills/crashy', { qos: 1 });
      await eventually(() => lateGot.length === 1, 'the retained will');
      expect(lateGot[0]).toMatchObject({ payload: 'lost', retain: true });
    });
  }

  it('v5: DISCONNECT with reason 0x04 publishes the will', async () => {
    const watcher = await h.connect({ protocolVersion: 5 });
    const got = inbox(watcher);
    await watcher.subscribeAsync('w5/#', { qos: 1 });
    const c = await h.connect({ protocolVersion: 5, will: { topic: 'w5/asked', payload: Buffer.from('please'), qos: 0, retain: false } });
    await c.endAsync(false, { reasonCode: 0x04 });
    await eventually(() => got.length === 1, 'the will');
    expect(got[0]).toMatchObject({ topic: 'w5/asked', payload: 'please' });
  });

  it('v5: a will with a delay is cancelled when the session resumes in time, published otherwise', async () => {
    const watcher = await h.connect({ protocolVersion: 5 });
    const got = inbox(watcher);
    await watcher.subscribeAsync('delayed/#', { qos: 1 });
    const opts = (id: string, topic: string) => ({
      protocolVersion: 5 as const,
      clientId: id,
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      will: { topic, payload: Buffer.from(id), qos: 1 as const, retain: false, properties: { willDelayInterval: 1 } },
    });
    const resumes = await h.connect(opts('resumes', 'delayed/resumes'));
    const vanishes = await h.connect(opts('vanishes', 'delayed/vanishes'));
    resumes.stream.destroy();
    vanishes.stream.destroy();
    await h.connect(opts('resumes', 'delayed/resumes'));
    await eventually(() => got.length >= 1, 'the delayed will of the client that did not come back');
    await new Promise((r) => setTimeout(r, 1300));
    expect(got.map((m) => m.topic)).toEqual(['delayed/vanishes']);
  });

  it('refuses a CONNECT whose will topic is invalid', async () => {
    await expect(h.connect({ protocolVersion: 5, will: { topic: 'bad/#', payload: Buffer.from('x'), qos: 0, retain: false } })).rejects.toThrow();
  });
});
