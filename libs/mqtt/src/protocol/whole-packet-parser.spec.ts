import mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { type ParserSettings, WholePacketParser } from './whole-packet-parser.js';

const connect = (protocolVersion: 4 | 5): Buffer =>
  mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion, clientId: 'c', clean: true, keepalive: 0 } as mqtt.IConnectPacket);

const subscribe = (protocolVersion: 4 | 5): Buffer =>
  mqtt.generate(
    {
      cmd: 'subscribe',
      messageId: 7,
      subscriptions: [{ topic: 'a/+', qos: 1, nl: true }],
      ...(protocolVersion === 5 ? { properties: { subscriptionIdentifier: 3 } } : {}),
    },
    { protocolVersion },
  );

describe('WholePacketParser', () => {
  it('reads each connection at its own level, switched by its CONNECT', () => {
    const parser = new WholePacketParser();
    const v5: ParserSettings = { protocolVersion: 4 };
    const v4: ParserSettings = { protocolVersion: 4 };
    expect(parser.parse(connect(5), v5).packets[0]).toMatchObject({ cmd: 'connect', protocolVersion: 5 });
    expect(v5.protocolVersion).toBe(5);
    expect(parser.parse(connect(4), v4).packets[0]).toMatchObject({ cmd: 'connect', protocolVersion: 4 });
    expect(v4.protocolVersion).toBe(4);
    // Interleaved: each packet is read at its connection's level.
    const five = parser.parse(subscribe(5), v5);
    const four = parser.parse(subscribe(4), v4);
    expect(five).toMatchObject({ error: null, packets: [{ cmd: 'subscribe', messageId: 7, properties: { subscriptionIdentifier: 3 } }] });
    expect(four).toMatchObject({ error: null, packets: [{ cmd: 'subscribe', messageId: 7 }] });
    expect((four.packets[0] as mqtt.ISubscribePacket).properties).toBeUndefined();
  });

  it('reports malformed bytes and reads the next connection cleanly', () => {
    const parser = new WholePacketParser();
    for (const bad of [Buffer.from([0x80, 0x00]) /* SUBSCRIBE with reserved flags 0 */, Buffer.from([0x82, 0x02, 0x00]) /* cut short */]) {
      const r = parser.parse(bad, { protocolVersion: 4 });
      expect(r.packets).toEqual([]);
      expect(r.error).toBeInstanceOf(Error);
    }
    const settings: ParserSettings = { protocolVersion: 4 };
    expect(parser.parse(connect(4), settings)).toMatchObject({ error: null, packets: [{ cmd: 'connect' }] });
    expect(parser.parse(Buffer.from([0xc0, 0x00]), settings)).toMatchObject({ error: null, packets: [{ cmd: 'pingreq' }] });
  });
});
