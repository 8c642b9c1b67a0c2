import fc from 'fast-check';
import mqtt, { type IPublishPacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketSplitter } from './packet-splitter.js';
import { decodePublish, encodePublish } from './publish-codec.js';

/** What mqtt-packet's parser makes of `bytes` at `protocolVersion`: the packets and the first error. */
function parseWithMqttPacket(bytes: Buffer, protocolVersion: number): { packets: mqtt.Packet[]; error: string | null } {
  const parser = mqtt.parser({ protocolVersion });
  const packets: mqtt.Packet[] = [];
  let error: string | null = null;
  parser.on('packet', (p: mqtt.Packet) => packets.push(p));
  parser.on('error', (e: Error) => (error ??= e.message));
  parser.parse(bytes);
  return { packets, error };
}

/** Plain fields of a packet (mqtt-packet's are instances of its Packet class). */
const plain = (p: object): Record<string, unknown> => ({ ...p });

const publishArb = fc.record({
  topic: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  qos: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
  dup: fc.boolean(),
  retain: fc.boolean(),
  messageId: fc.integer({ min: 1, max: 0xffff }),
  protocolVersion: fc.constantFrom(3, 4, 5),
});

function packetOf(r: { topic: string; payload: Buffer; qos: 0 | 1 | 2; dup: boolean; retain: boolean; messageId: number }): IPublishPacket {
  const p: IPublishPacket = { cmd: 'publish', topic: r.topic, payload: r.payload, qos: r.qos, dup: r.dup, retain: r.retain };
  if (r.qos > 0) p.messageId = r.messageId;
  return p;
}

describe('PUBLISH fast path', () => {
  it('encodes byte for byte as mqtt-packet generates', () => {
    fc.assert(
      fc.property(publishArb, (r) => {
        const p = packetOf(r);
        expect(encodePublish(p, r.protocolVersion)).toEqual(mqtt.generate(p, { protocolVersion: r.protocolVersion }));
      }),
      { numRuns: 500 },
    );
  });

  it('decodes to exactly what mqtt-packet parses', () => {
    fc.assert(
      fc.property(publishArb, (r) => {
        const bytes = mqtt.generate(packetOf(r), { protocolVersion: r.protocolVersion });
        const theirs = parseWithMqttPacket(bytes, r.protocolVersion);
        expect(theirs.error).toBeNull();
        expect(plain(decodePublish(bytes, r.protocolVersion)!)).toEqual(plain(theirs.packets[0]!));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves to mqtt-packet what it does not cover: properties, other packets, QoS 3, truncated bodies', () => {
    const withProps = mqtt.generate(
      { cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, properties: { contentType: 'text/plain' } },
      { protocolVersion: 5 },
    );
    expect(decodePublish(withProps, 5)).toBeNull();
    expect(decodePublish(mqtt.generate({ cmd: 'pingreq' }), 4)).toBeNull();
    expect(decodePublish(Buffer.from([0x36, 0x03, 0x00, 0x01, 0x61]), 4)).toBeNull(); // QoS 3
    expect(decodePublish(Buffer.from([0x32, 0x03, 0x00, 0x01, 0x61]), 4)).toBeNull(); // QoS 1 without a message id
    expect(decodePublish(Buffer.from([0x30, 0x02, 0x00, 0x05]), 4)).toBeNull(); // topic longer than the packet
    expect(
      encodePublish({ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, properties: { contentType: 't' } }, 5),
    ).toBeNull();
    expect(encodePublish({ cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 0, dup: false, retain: false }, 5)).toBeNull();
    expect(encodePublish({ cmd: 'publish', topic: 'a', payload: 'text', qos: 0, dup: false, retain: false }, 4)).toBeNull();
  });

  it('encodes Remaining Length at every varint width', () => {
    for (const size of [0, 120, 127, 200, 16_370, 16_400, 2_097_140, 2_097_200]) {
      const p: IPublishPacket = { cmd: 'publish', topic: 't/x', payload: Buffer.alloc(size, 7), qos: 1, messageId: 9, dup: false, retain: true };
      const ours = encodePublish(p, 4)!;
      expect(ours.equals(mqtt.generate(p))).toBe(true);
      expect(decodePublish(ours, 4)!.payload.length).toBe(size);
    }
  });
});

describe('PacketSplitter', () => {
  it('hands over the same packets whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(publishArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
        (records, cuts) => {
          const frames = records.map((r) => mqtt.generate(packetOf(r), { protocolVersion: 4 }));
          const stream = Buffer.concat([...frames, mqtt.generate({ cmd: 'pingreq' })]);
          const splitter = new PacketSplitter();
          const got: Buffer[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const n = cuts[i % cuts.length]!;
            splitter.push(stream.subarray(at, at + n), (p) => got.push(Buffer.from(p)));
            at += n;
          }
          expect(got).toEqual([...frames, mqtt.generate({ cmd: 'pingreq' })]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fails a Remaining Length longer than four bytes, also when it arrives byte by byte', () => {
    const bad = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(() => new PacketSplitter().push(bad, () => {})).toThrow('Invalid variable byte integer');
    const s = new PacketSplitter();
    expect(() => {
      for (const b of bad) s.push(Buffer.from([b]), () => {});
    }).toThrow('Invalid variable byte integer');
    expect(() => s.push(Buffer.from([0xc0, 0x00]), () => {})).toThrow(); // stays failed
  });
});
