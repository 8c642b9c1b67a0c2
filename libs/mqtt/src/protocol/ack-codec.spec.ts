import fc from 'fast-check';
import mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { type AckPacket, decodeAck, encodeAck } from './ack-codec.js';

function parse(bytes: Buffer, protocolVersion: number): mqtt.Packet[] {
  const parser = mqtt.parser({ protocolVersion });
  const out: mqtt.Packet[] = [];
  parser.on('packet', (p: mqtt.Packet) => out.push(p));
  parser.on('error', (e: Error) => {
    throw e;
  });
  parser.parse(bytes);
  return out;
}

const ackArb = fc.record({
  cmd: fc.constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp') as fc.Arbitrary<AckPacket['cmd']>,
  messageId: fc.integer({ min: 0, max: 0xffff }),
  protocolVersion: fc.constantFrom(3, 4, 5),
  withZeroReason: fc.boolean(),
});

describe('acknowledgement fast path', () => {
  it('encodes byte for byte as mqtt-packet generates, and decodes to exactly what it parses', () => {
    fc.assert(
      fc.property(ackArb, (r) => {
        const packet = { cmd: r.cmd, messageId: r.messageId, ...(r.protocolVersion === 5 && r.withZeroReason ? { reasonCode: 0 } : {}) } as AckPacket;
        const theirs = mqtt.generate(packet, { protocolVersion: r.protocolVersion });
        const ours = encodeAck(packet, r.protocolVersion);
        if (r.protocolVersion === 5 && !r.withZeroReason) {
          // mqtt-packet writes the long form when no reason code is given: left to it.
          expect(ours).toBeNull();
          return;
        }
        expect(ours).toEqual(theirs);
        expect({ ...decodeAck(ours!, r.protocolVersion)! }).toEqual({ ...parse(theirs, r.protocolVersion)[0]! });
      }),
      { numRuns: 400 },
    );
  });

  it('leaves the long forms, other packets and bad flags to mqtt-packet', () => {
    const withReason = mqtt.generate({ cmd: 'puback', messageId: 1, reasonCode: 0x10 }, { protocolVersion: 5 });
    expect(decodeAck(withReason, 5)).toBeNull();
    expect(encodeAck({ cmd: 'puback', messageId: 1, reasonCode: 0x87 }, 5)).toBeNull();
    expect(encodeAck({ cmd: 'pubrec', messageId: 1, properties: { reasonString: 'x' } }, 5)).toBeNull();
    expect(decodeAck(mqtt.generate({ cmd: 'pingreq' }), 4)).toBeNull();
    expect(decodeAck(Buffer.from([0x60, 0x02, 0x00, 0x01]), 4)).toBeNull(); // PUBREL without its required flags
    expect(decodeAck(Buffer.from([0x40, 0x03, 0x00, 0x01, 0x00]), 5)).toBeNull();
  });
});
