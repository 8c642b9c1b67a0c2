import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IllegalMessageError } from './errors.js';
import { encodeHost } from './host.js';
import { createOffsetMessageId, decodeOffsetMessageId, UniqueIdGenerator } from './message-id.js';

const require = createRequire(import.meta.url);
const aliDecoder = require('ali-ons/lib/message/message_decoder.js') as {
  decodeMessageId(id: string): { address: string; offset: { toNumber(): number } };
};

describe('offset message id', () => {
  it('IPv4 layout: ip (4 B) + port (int) + commit-log offset (long), uppercase hex, 32 chars', () => {
    const id = createOffsetMessageId(encodeHost({ address: '10.0.0.1', port: 10911 }), 0x1234);
    expect(id).toBe('0A000001' + '00002A9F' + '0000000000001234');
    expect(decodeOffsetMessageId(id)).toEqual({ storeHost: { address: '10.0.0.1', port: 10911 }, commitLogOffset: 0x1234 });
    expect(createOffsetMessageId(encodeHost({ address: '192.168.1.100', port: 10911 }), 2 ** 40 + 255)).toBe('C0A80164' + '00002A9F' + '00000100000000FF');
  });

  it('IPv6 layout: 16 address bytes, 56 chars', () => {
    const id = createOffsetMessageId(encodeHost({ address: 'fe80::abcd', port: 10911 }), 7);
    expect(id).toBe('FE80000000000000000000000000ABCD' + '00002A9F' + '0000000000000007');
    expect(id).toHaveLength(56);
    expect(decodeOffsetMessageId(id)).toEqual({ storeHost: { address: 'fe80:0:0:0:0:0:0:abcd', port: 10911 }, commitLogOffset: 7 });
    expect(decodeOffsetMessageId(id.toLowerCase()).commitLogOffset).toBe(7);
  });

  it('round-trips random IPv4 and IPv6 store hosts and offsets; ali-ons agrees on IPv4 ids', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 65535 }), fc.oneof(fc.maxSafeInteger(), fc.nat()), (address, port, offset) => {
        const host = encodeHost({ address, port });
        const id = createOffsetMessageId(host, offset);
        expect(id).toMatch(host.length === 8 ? /^[0-9A-F]{32}$/ : /^[0-9A-F]{56}$/);
        const back = decodeOffsetMessageId(id);
        expect(back.commitLogOffset).toBe(offset);
        expect(back.storeHost.port).toBe(port);
        expect(encodeHost(back.storeHost).equals(host)).toBe(true);
        if (host.length === 8 && offset >= 0) {
          const ali = aliDecoder.decodeMessageId(id);
          expect(ali.address).toBe(`${back.storeHost.address}:${port}`);
          expect(ali.offset.toNumber()).toBe(offset);
        }
      }),
      { numRuns: 300, seed: 8 },
    );
  });

  it('rejects what is not an offset message id', () => {
    for (const id of [
      '',
      '0A000001',
      '0A00000100002A9F000000000000123',
      '0A00000100002A9F00000000000012345',
      'ZZ00000100002A9F0000000000001234',
      '0A000001-0002A9F0000000000001234',
      'x'.repeat(56),
    ]) {
      expect(() => decodeOffsetMessageId(id), id).toThrow(IllegalMessageError);
    }
  });
});

describe('UniqueIdGenerator (UNIQ_KEY, MessageClientIDSetter layout)', () => {
  const ip = Buffer.from([192, 168, 1, 2]);
  // 2025-01-15 12:00:00.005 local time: 14 days, 12 h and 5 ms after the start of the month.
  const midJanuary = new Date(2025, 0, 15, 12, 0, 0, 5).getTime();
  const sinceMonthStart = 14 * 86_400_000 + 12 * 3_600_000 + 5;

  function fields(id: string) {
    const b = Buffer.from(id, 'hex');
    return { ip: b.subarray(0, 4), pid: b.readUInt16BE(4), hash: b.readInt32BE(6), time: b.readInt32BE(10), counter: b.readUInt16BE(14) };
  }

  it('32 hex chars: ip (4) + pid (2) + instance hash (4) + ms since month start (4) + counter (2)', () => {
    const g = new UniqueIdGenerator(ip, 0x12345, 0x0a0b0c0d);
    const id = g.next(midJanuary);
    expect(id).toMatch(/^[0-9A-F]{32}$/);
    expect(id.slice(0, 20)).toBe('C0A80102' + '2345' + '0A0B0C0D');
    expect(id.slice(20, 28)).toBe(sinceMonthStart.toString(16).toUpperCase().padStart(8, '0'));
    expect(id.slice(28)).toBe('0000');
    expect(fields(id)).toEqual({ ip, pid: 0x2345, hash: 0x0a0b0c0d, time: sinceMonthStart, counter: 0 });
  });

  it('the counter increments per id and wraps at 16 bits', () => {
    const g = new UniqueIdGenerator(ip, 1, 2);
    const ids = Array.from({ length: 70_000 }, () => g.next(midJanuary));
    expect(fields(ids[0]!).counter).toBe(0);
    expect(fields(ids[1]!).counter).toBe(1);
    expect(fields(ids[65535]!).counter).toBe(65535);
    expect(fields(ids[65536]!).counter).toBe(0);
    expect(new Set(ids.slice(0, 65536)).size).toBe(65536);
  });

  it('the time field restarts with each month and wraps like a Java int late in long months', () => {
    const g = new UniqueIdGenerator(ip, 1, 2);
    expect(fields(g.next(midJanuary)).time).toBe(sinceMonthStart);
    expect(fields(g.next(new Date(2025, 1, 1, 0, 0, 0, 7).getTime())).time).toBe(7);
    expect(fields(g.next(new Date(2025, 1, 2, 0, 0, 0, 0).getTime())).time).toBe(86_400_000);
    // 30 days 23 h into January is beyond 2^31 ms: (int) cast wraps it negative, as Java does
    const late = 30 * 86_400_000 + 23 * 3_600_000;
    expect(late).toBeGreaterThan(2 ** 31);
    const g2 = new UniqueIdGenerator(ip, 1, 2);
    expect(fields(g2.next(new Date(2025, 0, 31, 23, 0, 0, 0).getTime())).time).toBe(late | 0);
  });

  it('a clock behind the month start gives 0, not a negative time', () => {
    const g = new UniqueIdGenerator(ip, 1, 2);
    g.next(midJanuary);
    expect(fields(g.next(new Date(2024, 11, 31, 23, 0, 0).getTime())).time).toBe(0);
  });

  it("pid is truncated to 16 bits, negative hashes are two's complement, IPv6 ids are 56 chars", () => {
    const g = new UniqueIdGenerator(ip, 0xfffff, -2);
    expect(g.next(midJanuary).slice(8, 20)).toBe('FFFF' + 'FFFFFFFE');
    const g6 = new UniqueIdGenerator(Buffer.alloc(16, 0xab), 1, 2);
    const id = g6.next(midJanuary);
    expect(id).toHaveLength(56);
    expect(id.slice(0, 32)).toBe('AB'.repeat(16));
    expect(() => new UniqueIdGenerator(Buffer.alloc(5))).toThrow(IllegalMessageError);
    // defaults work and produce distinct ids
    const d = new UniqueIdGenerator();
    expect(d.next()).not.toBe(d.next());
    expect(d.next()).toMatch(/^7F000001[0-9A-F]{24}$/);
  });
});
