import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandArb } from '../test/arbitraries.js';
import { EncodeError, HeaderError, SerializeType, decodeRocketMqHeader, encodeRocketMqHeader } from './index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('ROCKETMQ binary header', () => {
  // code 11 · GO(9) · version 401 · opaque 0x01020304 · flag 2 · remark "ok" · ext {k: "v"}
  const bytes = hex('000B 09 0191 01020304 00000002 00000002 6F6B 00000008 0001 6B 00000001 76');
  const header = { code: 11, language: 'GO', version: 401, opaque: 0x01020304, flag: 2, remark: 'ok', extFields: { k: 'v' } };

  it('matches a hand-built vector byte by byte', () => {
    expect(encodeRocketMqHeader(header).toString('hex')).toBe(bytes.toString('hex'));
    expect(decodeRocketMqHeader(bytes)).toEqual(header);
  });

  it('encodes empty remark and extFields as zero lengths', () => {
    const h = { code: -1, language: 'NODE_JS', version: 0, opaque: -1, flag: 1, remark: '', extFields: {} };
    expect(encodeRocketMqHeader(h).toString('hex')).toBe('ffff' + '0d' + '0000' + 'ffffffff' + '00000001' + '00000000' + '00000000');
    expect(decodeRocketMqHeader(encodeRocketMqHeader(h))).toEqual({ ...h, remark: undefined });
  });

  it('round-trips any encodable header', () => {
    fc.assert(
      fc.property(commandArb(SerializeType.ROCKETMQ), (cmd) => {
        const { body: _body, ...h } = cmd;
        const expected = { ...h };
        if (expected.remark === '') delete expected.remark;
        expect(decodeRocketMqHeader(encodeRocketMqHeader(h))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes an unknown language byte as OTHER', () => {
    const b = Buffer.from(bytes);
    b[2] = 0x7f;
    expect(decodeRocketMqHeader(b).language).toBe('OTHER');
  });

  it.each([
    ['too short for the fixed fields', bytes.subarray(0, 12)],
    ['no extFields length', bytes.subarray(0, 19)],
    ['remark length overrun', hex('000B 09 0191 01020304 00000002 7FFFFFFF 6F6B 00000000')],
    ['negative remark length', hex('000B 09 0191 01020304 00000002 FFFFFFFF 00000000')],
    ['extFields length overrun', hex('000B 09 0191 01020304 00000002 00000000 00000009 0001 6B 00000001 76')],
    ['negative extFields length', hex('000B 09 0191 01020304 00000002 00000000 80000000')],
    ['negative key length', hex('000B 09 0191 01020304 00000002 00000000 00000008 FFFF 6B 00000001 76')],
    ['key past extFields', hex('000B 09 0191 01020304 00000002 00000000 00000004 0005 6B 00 00')],
    ['value past extFields', hex('000B 09 0191 01020304 00000002 00000000 00000008 0001 6B 00000002 76')],
    ['negative value length', hex('000B 09 0191 01020304 00000002 00000000 00000008 0001 6B 80000000 76')],
    ['trailing bytes', Buffer.concat([bytes, hex('00')])],
  ])('rejects %s with HeaderError', (_name, buf) => {
    expect(() => decodeRocketMqHeader(buf)).toThrow(HeaderError);
  });

  it('decodes random bytes into a header or a HeaderError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (a) => {
        try {
          decodeRocketMqHeader(Buffer.from(a));
        } catch (e) {
          expect(e).toBeInstanceOf(HeaderError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses codes and versions that do not fit a short, unknown languages, huge keys', () => {
    const h = { code: 1, language: 'JAVA', version: 1, opaque: 1, flag: 0, extFields: {} };
    expect(() => encodeRocketMqHeader({ ...h, code: 200050 })).toThrow(EncodeError);
    expect(() => encodeRocketMqHeader({ ...h, version: 40000 })).toThrow(EncodeError);
    expect(() => encodeRocketMqHeader({ ...h, language: 'COBOL' })).toThrow(EncodeError);
    expect(() => encodeRocketMqHeader({ ...h, extFields: { ['k'.repeat(40000)]: 'v' } })).toThrow(EncodeError);
  });
});
