import { Authorizer, hashPassword, parseAuthConfig } from '@apogee/broker';
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MqttRefusalCounters } from '../src/refusal-counters.js';
import { MqttHarness, eventually, inbox } from './harness.js';
import { RawClient } from './raw-client.js';

let auth: Authorizer;
let h: MqttHarness;

beforeAll(async () => {
  const pw = await hashPassword('secret', 1024);
  auth = new Authorizer(
    parseAuthConfig(
      {
        allowAnonymous: true,
        anonymous: { publish: { allow: ['public/#'] }, subscribe: { allow: ['public/#'] } },
        users: [
          { username: 'ops', password: pw, subscribe: { allow: ['#'], deny: ['vault/#'] } },
          { username: 'device', password: pw, publish: { allow: ['devices/%c/#', 'vault/#'] }, subscribe: { allow: ['devices/%c/#'] } },
        ],
      },
      'test',
    ),
  );
});

afterEach(async () => {
  await h.close();
});

describe('MQTT authentication and authorization', () => {
  for (const protocolVersion of [4, 5] as const) {
    it(`v${protocolVersion}: refuses wrong passwords with the protocol's code`, async () => {
      h = await MqttHarness.start({}, auth);
      await expect(h.connect({ protocolVersion, username: 'ops', password: 'wrong' })).rejects.toThrow(
        /Bad user ?name or password|bad username|Not authorized/i,
      );
      const ok = await h.connect({ protocolVersion, username: 'ops', password: 'secret' });
      expect(ok.connected).toBe(true);
    });

    it(`v${protocolVersion}: denies subscriptions and publishes outside the rules, and never delivers a denied topic`, async () => {
      h = await MqttHarness.start({}, auth);
      const anon = await h.connect({ protocolVersion });
      // mqtt.js rejects a refused subscription; the code is 0x80 in both versions (no rule is revealed).
      await expect(anon.subscribeAsync('private/#', { qos: 1 })).rejects.toThrow(/Unspecified error/);
      const ops = await h.connect({ protocolVersion, username: 'ops', password: 'secret' });
      const got = inbox(ops);
      const all = await ops.subscribeAsync('#', { qos: 1 });
      expect(all[0]!.qos).toBe(1);
      const dev = await h.connect({ protocolVersion, clientId: 'd1', username: 'device', password: 'secret' });
      await dev.publishAsync('vault/key', 'classified', { qos: 1, retain: true });
      await dev.publishAsync('devices/d1/temp', '20', { qos: 1 });
      await dev.publishAsync('devices/d2/temp', 'not allowed', { qos: 1 }).catch(() => {});
      await eventually(() => got.some((m) => m.topic === 'devices/d1/temp'), 'the allowed message');
      await new Promise((r) => setTimeout(r, 100));
      // ops subscribes to everything but must not see vault/ (denied) nor d2's (never stored).
      expect(got.map((m) => m.topic)).toEqual(['devices/d1/temp']);
      // The retained vault message does not leak through a late wildcard subscription either.
      const late = await h.connect({ protocolVersion, username: 'ops', password: 'secret' });
      const lateGot = inbox(late);
      await late.subscribeAsync('#', { qos: 1 });
      await late.subscribeAsync('devices/#', { qos: 1 });
      await new Promise((r) => setTimeout(r, 200));
      expect(lateGot.map((m) => m.topic)).toEqual([]);
    });
  }

  for (const protocolVersion of [4, 5] as const) {
    it(`v${protocolVersion}: a session belongs to its user: another user (or an anonymous client) with its client id is refused and changes nothing, also after a restart`, async () => {
      h = await MqttHarness.start({}, auth);
      const id = `owned-${protocolVersion}`;
      const persistent = protocolVersion === 5 ? { clean: false, properties: { sessionExpiryInterval: 3600 } } : { clean: false };
      const ops = await h.connect({ protocolVersion, clientId: id, username: 'ops', password: 'secret', ...persistent });
      await ops.subscribeAsync('public/owned', { qos: 1 });
      await ops.endAsync();
      const anon = await h.connect({ protocolVersion });
      await anon.publishAsync('public/owned', 'for ops', { qos: 1 });
      await h.restart();
      // Before owners, device was accepted with session present, and the queued message was gone when ops came back.
      await expect(h.connect({ protocolVersion, clientId: id, username: 'device', password: 'secret', ...persistent })).rejects.toThrow(/Not authorized/i);
      await expect(h.connect({ protocolVersion, clientId: id, clean: true })).rejects.toThrow(/Not authorized/i);
      let got: ReturnType<typeof inbox> = [];
      let present: boolean | undefined;
      await h.connect({ protocolVersion, clientId: id, username: 'ops', password: 'secret', ...persistent }, (c) => {
        got = inbox(c);
        c.once('connect', (ack) => (present = ack.sessionPresent));
      });
      expect(present).toBe(true);
      await eventually(() => got.length === 1, 'the message queued for ops');
      expect(got[0]!.payload).toBe('for ops');
    });
  }

  it('refuses anonymous clients when configured so', async () => {
    h = await MqttHarness.start({}, new Authorizer(parseAuthConfig({ allowAnonymous: false }, 'test')));
    await expect(h.connect({ protocolVersion: 5 })).rejects.toThrow(/Not authorized|authoriz/i);
  });
});

describe('MQTT refusal warnings', () => {
  it('warns about a refused CONNECT, SUBSCRIBE and PUBLISH and a protocol error, naming the client and the reason', async () => {
    h = await MqttHarness.start({}, auth);
    await expect(h.connect({ protocolVersion: 5, clientId: 'intruder', username: 'ops', password: 'wrong' })).rejects.toThrow();
    const anon = await h.connect({ protocolVersion: 5, clientId: 'anon-1' });
    await expect(anon.subscribeAsync('private/#', { qos: 1 })).rejects.toThrow();
    await anon.publishAsync('private/x', 'no', { qos: 1 }).catch(() => {});
    const { client: raw } = await RawClient.connect(h.url, { clientId: 'raw-1' });
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'raw-1', keepalive: 0, clean: true } as never);
    await eventually(() => h.logs.some((l) => l.msg === 'mqtt: connection closed on a protocol error'), 'the protocol error warning');
    raw.socket.destroy();
    const warned = h.logs.filter((l) => l.level === 'warn');
    expect(warned).toEqual([
      {
        level: 'warn',
        msg: 'mqtt: CONNECT refused',
        obj: { remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/), clientId: 'intruder', username: 'ops', reason: 'bad user name or password' },
      },
      { level: 'warn', msg: 'mqtt: SUBSCRIBE refused', obj: expect.objectContaining({ clientId: 'anon-1', filter: 'private/#', reason: 'not authorized' }) },
      { level: 'warn', msg: 'mqtt: PUBLISH refused', obj: expect.objectContaining({ clientId: 'anon-1', topic: 'private/x', reason: 'not authorized' }) },
      {
        level: 'warn',
        msg: 'mqtt: connection closed on a protocol error',
        obj: { remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/), clientId: 'raw-1', reason: 'second CONNECT on one connection' },
      },
    ]);
  });

  it('counts each refusal under its operation and reason in stats().refusals, every other reason staying at 0', async () => {
    h = await MqttHarness.start({ maxPacketSize: 4096 }, auth);
    await expect(h.connect({ protocolVersion: 5, username: 'ops', password: 'wrong' })).rejects.toThrow();
    await expect(h.connect({ protocolVersion: 4, username: 'nobody', password: 'wrong' })).rejects.toThrow();
    const anon = await h.connect({ protocolVersion: 5, clientId: 'anon-2' });
    await expect(anon.subscribeAsync('private/#', { qos: 1 })).rejects.toThrow();
    await anon.publishAsync('private/x', 'no', { qos: 1 }).catch(() => {});
    const { client: twice } = await RawClient.connect(h.url, { clientId: 'raw-2' });
    // mqtt.js checks filters itself: an invalid one goes out raw.
    twice.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'public/#/x', qos: 0 }] } as never);
    expect(await twice.next('suback')).toMatchObject({ granted: [0x80] });
    twice.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'raw-2', keepalive: 0, clean: true } as never);
    const { client: big } = await RawClient.connect(h.url, { clientId: 'raw-3' });
    big.send({ cmd: 'publish', topic: 'public/big', payload: Buffer.alloc(8192), qos: 0, retain: false, dup: false } as never);
    await eventually(() => h.gateway.stats().refusals.protocol.packet_too_large === 1, 'the oversize packet counted');
    await eventually(() => h.gateway.stats().refusals.protocol.unexpected_packet === 1, 'the second CONNECT counted');
    twice.socket.destroy();
    big.socket.destroy();
    const expected = new MqttRefusalCounters();
    expected.count('connect', 'bad_credentials');
    expected.count('connect', 'bad_credentials');
    expected.count('subscribe', 'not_authorized');
    expected.count('subscribe', 'invalid_filter');
    expected.count('publish', 'not_authorized');
    expected.count('protocol', 'unexpected_packet');
    expected.count('protocol', 'packet_too_large');
    expect(h.gateway.stats().refusals).toEqual(expected.snapshot());
  });

  it('counts anonymous CONNECTs refused and connections over the cap under connect', async () => {
    h = await MqttHarness.start({ maxConnections: 1 }, new Authorizer(parseAuthConfig({ allowAnonymous: false }, 'test')));
    await expect(h.connect({ protocolVersion: 4 })).rejects.toThrow(/Not authorized/i);
    await eventually(() => h.gateway.stats().connections === 0, 'the refused connection closed');
    const [host, port] = h.url.slice('mqtt://'.length).split(':');
    const held = net.connect(Number(port), host);
    await new Promise((r) => held.once('connect', r));
    await eventually(() => h.gateway.stats().connections === 1, 'the first connection accepted');
    const over = net.connect(Number(port), host);
    over.on('error', () => {});
    await new Promise((r) => over.once('close', r));
    held.destroy();
    const s = h.gateway.stats();
    expect(s.refusals.connect).toMatchObject({ not_authorized: 1, bad_credentials: 0, connection_limit: 1 });
    expect(s.refusedConnections).toBe(1);
  });
});
