import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IllegalMessageError } from './errors.js';
import { decodeHost, encodeHost, formatHost } from './host.js';

const hex = (b: Buffer) => b.toString('hex');

describe('encodeHost / decodeHost', () => {
  it('IPv4: 4 address bytes + int port (8 bytes)', () => {
    expect(hex(encodeHost({ address: '192.168.0.10', port: 10911 }))).toBe('c0a8000a00002a9f');
    expect(hex(encodeHost({ address: '0.0.0.0', port: 0 }))).toBe('0000000000000000');
    expect(hex(encodeHost({ address: '255.255.255.255', port: 65535 }))).toBe('ffffffff0000ffff');
  });

  it('IPv6: 16 address bytes + int port (20 bytes)', () => {
    expect(hex(encodeHost({ address: '::1', port: 1 }))).toBe('00000000000000000000000000000001' + '00000001');
    expect(hex(encodeHost({ address: '::', port: 2 }))).toBe('0'.repeat(32) + '00000002');
    expect(hex(encodeHost({ address: '2001:db8::ff00:42:8329', port: 443 }))).toBe('20010db8000000000000ff0000428329' + '000001bb');
    expect(hex(encodeHost({ address: '2001:DB8:0:0:1:0:0:1', port: 3 }))).toBe('20010db8000000000001000000000001' + '00000003');
    expect(hex(encodeHost({ address: 'fe80::', port: 4 }))).toBe('fe800000000000000000000000000000' + '00000004');
    expect(hex(encodeHost({ address: 'fe80::1%eth0', port: 5 }))).toBe('fe800000000000000000000000000001' + '00000005');
    // IPv4-compatible (not mapped) addresses stay IPv6
    expect(hex(encodeHost({ address: '::1.2.3.4', port: 6 }))).toBe('00000000000000000000000001020304' + '00000006');
    expect(hex(encodeHost({ address: '64:ff9b::10.0.0.1', port: 7 }))).toBe('0064ff9b00000000000000000a000001' + '00000007');
  });

  it('IPv4-mapped IPv6 addresses are stored as IPv4, in every spelling', () => {
    for (const address of ['::ffff:10.1.2.3', '::FFFF:10.1.2.3', '::ffff:a01:203', '0:0:0:0:0:ffff:10.1.2.3', '0:0:0:0:0:FFFF:0A01:0203']) {
      expect(hex(encodeHost({ address, port: 10911 })), address).toBe('0a010203' + '00002a9f');
    }
  });

  it('rejects what is not an IP address', () => {
    for (const address of ['', 'localhost', '1.2.3', '1.2.3.256', '::ffff:1.2.3.4.5', 'gggg::1', '1:2:3:4:5:6:7:8:9']) {
      expect(() => encodeHost({ address, port: 1 }), address).toThrow(IllegalMessageError);
    }
  });

  it('decodes at an offset; IPv6 as eight uncompressed lowercase groups', () => {
    const b = Buffer.concat([Buffer.from([9, 9]), encodeHost({ address: '2001:db8::1', port: 80 }), encodeHost({ address: '10.0.0.1', port: 81 })]);
    expect(decodeHost(b, 2, true)).toEqual({ address: '2001:db8:0:0:0:0:0:1', port: 80 });
    expect(decodeHost(b, 22, false)).toEqual({ address: '10.0.0.1', port: 81 });
  });

  it('round-trips random IPv4 and IPv6 addresses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 65535 }), (address, port) => {
        const enc = encodeHost({ address, port });
        const v6 = enc.length === 20;
        expect(enc.length === 8 || v6).toBe(true);
        const dec = decodeHost(enc, 0, v6);
        expect(dec.port).toBe(port);
        // re-encoding the decoded text gives the same bytes
        expect(encodeHost(dec).equals(enc)).toBe(true);
        if (v6) expect(new URL(`http://[${dec.address}]/`).hostname).toBe(new URL(`http://[${address}]/`).hostname);
        else if (!address.includes(':')) expect(dec.address).toBe(address);
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});

describe('formatHost', () => {
  it('ip:port, IPv6 in brackets', () => {
    expect(formatHost({ address: '10.0.0.1', port: 10911 })).toBe('10.0.0.1:10911');
    expect(formatHost({ address: '::1', port: 10911 })).toBe('[::1]:10911');
  });
});
