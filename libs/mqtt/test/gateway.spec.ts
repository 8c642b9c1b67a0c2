import net from 'node:net';
import { decodeRecords } from '@apogee/message';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeTopicOf } from '@apogee/topics';
import { MqttHarness, eventually, inbox } from './harness.js';

let h: MqttHarness;
beforeEach(async () => {
  h = await MqttHarness.start({ maxPacketSize: 64 * 1024 });
});
afterEach(async () => {
  await h.close();
});

for (const [protocolVersion, transport] of [
  [4, 'tcp'],
  [5, 'tcp'],
  [4, 'ws'],
  [5, 'ws'],
] as const) {
  describe(`MQTT ${protocolVersion === 5 ? '5.0' : '3.1.1'} over ${transport === 'ws' ? 'WebSocket' : 'TCP'} (mqtt.js)`, () => {
    beforeEach(() => {
      h.transport = transport;
    });

    it('delivers a QoS 1 publish to a wildcard subscriber, and not to a non-matching one', async () => {
      const sub = await h.connect({ protocolVersion, clientId: `sub-${protocolVersion}` });
      const other = await h.connect({ protocolVersion, clientId: `other-${protocolVersion}` });
      const got = inbox(sub);
      const none = inbox(other);
      const granted = await sub.subscribeAsync('home/+/temp', { qos: 1 });
      expect(granted[0]!.qos).toBe(1);
      await other.subscribeAsync('office/#', { qos: 1 });
      const pub = await h.connect({ protocolVersion });
      await pub.publishAsync('home/kitchen/temp', '21.5', { qos: 1 });
      await pub.publishAsync('home/kitchen/humidity', '40', { qos: 1 });
      await eventually(() => got.length >= 1, 'the matching message');
      expect(got[0]).toMatchObject({ topic: 'home/kitchen/temp', payload: '21.5', qos: 1 });
      await pub.publishAsync('office/x', 'sentinel', { qos: 1 });
      await eventually(() => none.length >= 1, 'the sentinel');
      expect(none.map((m) => m.topic)).toEqual(['office/x']);
      expect(got).toHaveLength(1);
    });

    it('routes a topic published before to a filter subscribed later, and stops after the unsubscribe', async () => {
      const pub = await h.connect({ protocolVersion });
      await pub.publishAsync('late/a/b', 'before', { qos: 1 });
      const sub = await h.connect({ protocolVersion });
      const got = inbox(sub);
      await sub.subscribeAsync('late/+/b', { qos: 1 });
      await pub.publishAsync('late/a/b', 'after', { qos: 1 });
      await eventually(() => got.length >= 1, 'the message published after the subscribe');
      expect(got.map((m) => m.payload)).toEqual(['after']);
      await sub.unsubscribeAsync('late/+/b');
      await sub.subscribeAsync('late/#', { qos: 1 });
      await pub.publishAsync('late/a/b', 'third', { qos: 1 });
      await eventually(() => got.length >= 2, 'the message for the new filter');
      expect(got.map((m) => m.payload)).toEqual(['after', 'third']);
    });

    it('fans a QoS 0 publish out to every subscriber, at the lower of the two QoS', async () => {
      const subs = await Promise.all([0, 1, 2].map((i) => h.connect({ protocolVersion, clientId: `fan-${protocolVersion}-${i}` })));
      const boxes = subs.map(inbox);
      for (const s of subs) await s.subscribeAsync('fan/#', { qos: 1 });
      const pub = await h.connect({ protocolVersion });
      await pub.publishAsync('fan/out', 'hello', { qos: 0 });
      await eventually(() => boxes.every((b) => b.length === 1), 'every subscriber');
      for (const b of boxes) expect(b[0]).toMatchObject({ topic: 'fan/out', payload: 'hello', qos: 0 });
    });

    it('does not match $-topics with wildcard filters', async () => {
      const sub = await h.connect({ protocolVersion });
      const got = inbox(sub);
      await sub.subscribeAsync('#', { qos: 1 });
      await sub.subscribeAsync('$SYS/#', { qos: 1 });
      const pub = await h.connect({ protocolVersion });
      await pub.publishAsync('$SYS/broker/load', 'x', { qos: 1 });
      await pub.publishAsync('plain', 'y', { qos: 1 });
      await eventually(() => got.length >= 2, 'two messages');
      await new Promise((r) => setTimeout(r, 50));
      expect(got.map((m) => m.topic).sort()).toEqual(['$SYS/broker/load', 'plain']);
    });

    it('keeps a persistent session: messages published while offline arrive after reconnect', async () => {
      const opts =
        protocolVersion === 5
          ? { protocolVersion, clientId: `p-${protocolVersion}`, clean: false, properties: { sessionExpiryInterval: 300 } }
          : { protocolVersion, clientId: `p-${protocolVersion}`, clean: false };
      const first = await h.connect(opts);
      await first.subscribeAsync('offline/#', { qos: 1 });
      await first.endAsync();
      const pub = await h.connect({ protocolVersion });
      for (let i = 0; i < 3; i++) await pub.publishAsync(`offline/${i}`, `m${i}`, { qos: 1 });
      let got: ReturnType<typeof inbox> = [];
      await h.connect(opts, (c) => (got = inbox(c)));
      await eventually(() => got.length >= 3, 'the three offline messages');
      expect(got.map((m) => m.payload)).toEqual(['m0', 'm1', 'm2']);
    });

    it('closes the connection of a client publishing to an invalid topic, and only that one', async () => {
      const bad = await h.connect({ protocolVersion });
      const good = await h.connect({ protocolVersion });
      const closed = new Promise<void>((r) => bad.once('close', () => r()));
      bad.publish('bad/+/topic', 'x', { qos: 0 });
      await closed;
      const got = inbox(good);
      await good.subscribeAsync('still/ok', { qos: 1 });
      await good.publishAsync('still/ok', 'yes', { qos: 1 });
      await eventually(() => got.length === 1, 'the good client still served');
    });
  });
}

describe('MQTT specifics', () => {
  it('stores each publish once under its first level, readable by a native consumer, with the MQTT topic kept', async () => {
    const pub = await h.connect({ protocolVersion: 5 });
    await pub.publishAsync('sensors/dev1/temp', 'x', { qos: 1 });
    const storeTopic = storeTopicOf('sensors/dev1/temp');
    expect(storeTopic).toBe('sensors');
    let found: Array<{ body: string; mqttTopic?: string; mqttQos?: string }> = [];
    for (let q = 0; q < 4; q++) {
      const r = await h.store.get(storeTopic, q, 0, 32);
      found = found.concat(
        r.messages
          .flatMap((m) => decodeRecords(m.record))
          .map((m) => ({ body: m.body.toString(), mqttTopic: m.properties.get('mqttTopic'), mqttQos: m.properties.get('mqttQos') })),
      );
    }
    expect(found).toEqual([{ body: 'x', mqttTopic: 'sensors/dev1/temp', mqttQos: '1' }]);
  });

  it('assigns a client identifier to a v5 client that sent none', async () => {
    const c = await h.connect({ protocolVersion: 5, clientId: '' });
    const ack = (c as unknown as { options: { properties?: unknown } }).options;
    expect(ack).toBeDefined();
    const got = inbox(c);
    await c.subscribeAsync('assigned/t', { qos: 1 });
    await c.publishAsync('assigned/t', 'works', { qos: 1 });
    await eventually(() => got.length === 1, 'a message on the assigned session');
  });

  it('refuses an empty client id with a persistent 3.1.1 session (CONNACK 2)', async () => {
    const [host, port] = h.url.slice('mqtt://'.length).split(':');
    const s = net.connect(Number(port), host);
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    const reply = new Promise<Buffer>((r) => s.once('data', r));
    // Hand-built: mqtt.js and mqtt-packet refuse to produce this illegal CONNECT.
    s.write(Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]));
    const connack = await reply;
    expect([...connack]).toEqual([0x20, 0x02, 0x00, 0x02]);
    s.destroy();
  });

  it('closes a connection that sends a packet over the size limit', async () => {
    const c = await h.connect({ protocolVersion: 4 });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish('big/one', Buffer.alloc(70 * 1024), { qos: 0 });
    await closed;
  });

  it('closes a connection whose first packet is not CONNECT, or that sends garbage', async () => {
    const [host, port] = h.url.slice('mqtt://'.length).split(':');
    // A PUBLISH first, garbage, and an HTTP request (whose 'G' reads as a PUBACK header announcing 69 more bytes: it would wait for them).
    const http = Buffer.from('GET / HTTP/1.1\r\n\r\n');
    for (const bytes of [Buffer.from([0x30, 0x03, 0x00, 0x01, 0x61]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), http]) {
      const s = net.connect(Number(port), host);
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      const closed = new Promise((r) => s.once('close', r));
      s.write(bytes);
      await closed;
    }
    const ok = await h.connect({ protocolVersion: 4 });
    expect(ok.connected).toBe(true);
  });

  it('hands the session to a second connection with the same client id', async () => {
    const a = await h.connect({ protocolVersion: 5, clientId: 'twin' });
    const aClosed = new Promise<void>((r) => a.once('close', () => r()));
    const b = await h.connect({ protocolVersion: 5, clientId: 'twin' });
    await aClosed;
    const got = inbox(b);
    await b.subscribeAsync('twin/t', { qos: 1 });
    await b.publishAsync('twin/t', 'to b', { qos: 1 });
    await eventually(() => got.length === 1, 'delivery to the new connection');
  });
});
