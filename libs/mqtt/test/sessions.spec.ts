import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttHarness, eventually, inbox } from './harness.js';

let h: MqttHarness;
beforeEach(async () => {
  h = await MqttHarness.start();
});
afterEach(async () => {
  await h.close();
});

describe('persistent sessions across restarts', () => {
  for (const protocolVersion of [4, 5] as const) {
    const opts = (clientId: string) =>
      protocolVersion === 5
        ? { protocolVersion, clientId, clean: false, properties: { sessionExpiryInterval: 3600 } }
        : { protocolVersion, clientId, clean: false };

    it(`v${protocolVersion}: subscriptions and offline messages survive a broker restart`, async () => {
      const first = await h.connect(opts(`keep-${protocolVersion}`));
      await first.subscribeAsync('fleet/+/status', { qos: 1 });
      await first.endAsync();
      await h.restart();
      // Published after the restart, while the session is offline: the restored filter still dispatches.
      const pub = await h.connect({ protocolVersion });
      for (let i = 0; i < 3; i++) await pub.publishAsync(`fleet/truck${i}/status`, `s${i}`, { qos: 1 });
      let got: ReturnType<typeof inbox> = [];
      let present: boolean | undefined;
      const again = await h.connect(opts(`keep-${protocolVersion}`), (c) => {
        got = inbox(c);
        c.once('connect', (ack) => (present = ack.sessionPresent));
      });
      expect(present).toBe(true);
      await eventually(() => got.length >= 3, 'the offline messages');
      expect(got.map((m) => m.payload)).toEqual(['s0', 's1', 's2']);
      expect(again.connected).toBe(true);
    });

    it(`v${protocolVersion}: acknowledged messages are not redelivered after a restart; a clean start forgets the session`, async () => {
      let got: ReturnType<typeof inbox> = [];
      const c = await h.connect(opts(`acked-${protocolVersion}`), (x) => (got = inbox(x)));
      await c.subscribeAsync('acked/#', { qos: 1 });
      const pub = await h.connect({ protocolVersion });
      await pub.publishAsync('acked/1', 'one', { qos: 1 });
      await eventually(() => got.length === 1, 'the first message');
      // Let the PUBACK reach the server and its offset commit run.
      await new Promise((r) => setTimeout(r, 300));
      await c.endAsync();
      await h.restart();
      const pub2 = await h.connect({ protocolVersion });
      await pub2.publishAsync('acked/2', 'two', { qos: 1 });
      let again: ReturnType<typeof inbox> = [];
      await h.connect(opts(`acked-${protocolVersion}`), (x) => (again = inbox(x)));
      await eventually(() => again.length >= 1, 'the second message');
      await new Promise((r) => setTimeout(r, 100));
      expect(again.map((m) => m.payload)).toEqual(['two']);
      // Clean start: no session present, nothing delivered from the old subscription.
      let present: boolean | undefined;
      const clean = await h.connect({ protocolVersion, clientId: `acked-${protocolVersion}`, clean: true }, (x) =>
        x.once('connect', (ack) => (present = ack.sessionPresent)),
      );
      expect(present).toBe(false);
      const none = inbox(clean);
      await pub2.publishAsync('acked/3', 'three', { qos: 1 });
      await new Promise((r) => setTimeout(r, 100));
      expect(none).toEqual([]);
    });
  }

  it('v5: a session expires after its Session Expiry Interval', async () => {
    const c = await h.connect({ protocolVersion: 5, clientId: 'short', clean: false, properties: { sessionExpiryInterval: 1 } });
    await c.subscribeAsync('short/t', { qos: 1 });
    await c.endAsync();
    expect(h.gateway.stats().sessions).toBe(1);
    await eventually(() => h.gateway.stats().sessions === 0, 'the session to expire', 10_000);
    expect(h.gateway.stats().filters).toBe(0);
    let present: boolean | undefined;
    await h.connect({ protocolVersion: 5, clientId: 'short', clean: false, properties: { sessionExpiryInterval: 1 } }, (y) =>
      y.once('connect', (ack) => (present = ack.sessionPresent)),
    );
    expect(present).toBe(false);
  });
});

describe('session takeover', () => {
  it('a session without expiry ends with the connection taken over: the new one starts afresh', async () => {
    const first = await h.connect({ protocolVersion: 5, clientId: 'short-lived', clean: false, properties: { sessionExpiryInterval: 0 } });
    await first.subscribeAsync('gone/t', { qos: 1 });
    let present: boolean | undefined;
    await h.connect({ protocolVersion: 5, clientId: 'short-lived', clean: false, properties: { sessionExpiryInterval: 300 } }, (c) =>
      c.once('connect', (ack) => (present = ack.sessionPresent)),
    );
    expect(present).toBe(false);
    expect(h.gateway.stats().subscriptions).toBe(0);
  });

  it('keeps a persistent session (and its subscriptions) when a second connection takes it over', async () => {
    const first = await h.connect({ protocolVersion: 5, clientId: 'taker', clean: false, properties: { sessionExpiryInterval: 300 } });
    await first.subscribeAsync('take/t', { qos: 1 });
    let got: ReturnType<typeof inbox> = [];
    let present: boolean | undefined;
    await h.connect({ protocolVersion: 5, clientId: 'taker', clean: false, properties: { sessionExpiryInterval: 300 } }, (c) => {
      got = inbox(c);
      c.once('connect', (ack) => (present = ack.sessionPresent));
    });
    expect(present).toBe(true);
    const pub = await h.connect({ protocolVersion: 5 });
    await pub.publishAsync('take/t', 'still subscribed', { qos: 1 });
    await eventually(() => got.length === 1, 'delivery to the taken-over session');
  });
});
