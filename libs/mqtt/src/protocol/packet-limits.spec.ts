import type mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { packetLimitViolation } from './packet-limits.js';

const limits = { maxUserProperties: 3, maxFiltersPerPacket: 2 };

describe('packetLimitViolation', () => {
  it('counts user properties, repeated names included, on any packet and on a will', () => {
    const publish = (user: Record<string, string | string[]>) =>
      ({ cmd: 'publish', topic: 't', payload: Buffer.alloc(0), qos: 0, dup: false, retain: false, properties: { userProperties: user } }) as mqtt.Packet;
    expect(packetLimitViolation(publish({ a: ['1', '2'], b: '3' }), limits)).toBeNull();
    expect(packetLimitViolation(publish({ a: ['1', '2', '3', '4'] }), limits)).toBe('publish carries 4 user properties; the limit is 3');
    const connect = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clientId: 'c',
      will: { topic: 'w', payload: Buffer.alloc(0), qos: 0, retain: false, properties: { userProperties: { a: ['1', '2', '3', '4'] } } },
    } as unknown as mqtt.Packet;
    expect(packetLimitViolation(connect, limits)).toMatch(/will carries 4 user properties/);
  });

  it('bounds the topic filters of one SUBSCRIBE or UNSUBSCRIBE', () => {
    const sub = (n: number) =>
      ({ cmd: 'subscribe', messageId: 1, subscriptions: Array.from({ length: n }, (_, i) => ({ topic: `t/${i}`, qos: 0 })) }) as mqtt.Packet;
    expect(packetLimitViolation(sub(2), limits)).toBeNull();
    expect(packetLimitViolation(sub(3), limits)).toBe('subscribe carries 3 topic filters; the limit is 2');
    const unsub = { cmd: 'unsubscribe', messageId: 1, unsubscriptions: ['a', 'b', 'c'] } as mqtt.Packet;
    expect(packetLimitViolation(unsub, limits)).toBe('unsubscribe carries 3 topic filters; the limit is 2');
  });

  it('a SUBSCRIBE carries one subscription identifier, never 0', () => {
    const sub = (id: number | number[]) =>
      ({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 0 }], properties: { subscriptionIdentifier: id } }) as unknown as mqtt.Packet;
    expect(packetLimitViolation(sub(7), limits)).toBeNull();
    expect(packetLimitViolation(sub([1, 2]), limits)).toMatch(/2 subscription identifiers/);
    expect(packetLimitViolation(sub(0), limits)).toMatch(/identifier 0/);
  });
});
