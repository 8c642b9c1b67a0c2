import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandArb } from '../test/arbitraries.js';
import { EncodeError, HeaderError, SerializeType, decodeJsonHeader, encodeJsonHeader } from './index.js';

const json = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o), 'utf8');

describe('JSON header', () => {
  it('encodes keys as Java does (alphabetical, null omitted, serializeTypeCurrentRPC)', () => {
    const h = { code: 0, language: 'JAVA', version: 479, opaque: 5, flag: 1, extFields: { queueId: '3', msgId: 'AB' } };
    expect(encodeJsonHeader(h).toString()).toBe(
      '{"code":0,"extFields":{"queueId":"3","msgId":"AB"},"flag":1,"language":"JAVA","opaque":5,' + '"serializeTypeCurrentRPC":"JSON","version":479}',
    );
    expect(encodeJsonHeader({ ...h, extFields: {}, remark: 'bad \u00e9' }).toString()).toBe(
      '{"code":0,"flag":1,"language":"JAVA","opaque":5,"remark":"bad \u00e9","serializeTypeCurrentRPC":"JSON","version":479}',
    );
  });

  it('round-trips any command header', () => {
    fc.assert(
      fc.property(commandArb(SerializeType.JSON), (cmd) => {
        const { body: _body, ...header } = cmd;
        expect(decodeJsonHeader(encodeJsonHeader(header))).toEqual(header);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps "__proto__" as an ordinary extFields key', () => {
    const h = decodeJsonHeader(json('{"code":1,"extFields":{"__proto__":"x","a":"b"}}'));
    expect(Object.getPrototypeOf(h.extFields)).toBe(Object.prototype);
    expect(Object.keys(h.extFields)).toEqual(['__proto__', 'a']);
    expect(h.extFields['__proto__']).toBe('x');
  });

  it('accepts ali-ons quirks: raw numbers/booleans/null in extFields, no serializeTypeCurrentRPC', () => {
    const h = decodeJsonHeader(
      json({ code: 310, language: 'JAVA', opaque: 1, flag: 0, version: 121, extFields: { a: 'g', d: 4, e: -1, g: 1700000000000, k: false, n: null } }),
    );
    expect(h).toEqual({
      code: 310,
      language: 'JAVA',
      opaque: 1,
      flag: 0,
      version: 121,
      extFields: { a: 'g', d: '4', e: '-1', g: '1700000000000', k: 'false' },
    });
  });

  it('accepts a numeric language, numeric strings, missing optional keys; unknown languages become OTHER', () => {
    expect(decodeJsonHeader(json({ code: 34, language: 9 }))).toEqual({ code: 34, language: 'GO', version: 0, opaque: 0, flag: 0, extFields: {} });
    expect(decodeJsonHeader(json({ code: '34', language: 'COBOL', opaque: '7', remark: null, extFields: null })).language).toBe('OTHER');
    expect(decodeJsonHeader(json({ code: 34, language: 99 })).language).toBe('OTHER');
    expect(decodeJsonHeader(json({ code: 34, extFields: { o: { x: 1 }, l: [1] } })).extFields).toEqual({ o: '{"x":1}', l: '[1]' });
  });

  it.each([
    ['not JSON', '{code:1'],
    ['empty', ''],
    ['array', '[1]'],
    ['null', 'null'],
    ['number', '12'],
    ['no code', '{"opaque":1}'],
    ['fractional code', '{"code":1.5}'],
    ['code overflow', '{"code":2147483648}'],
    ['string opaque', '{"code":1,"opaque":"x"}'],
    ['boolean flag', '{"code":1,"flag":true}'],
    ['object language', '{"code":1,"language":{}}'],
    ['numeric remark', '{"code":1,"remark":3}'],
    ['array extFields', '{"code":1,"extFields":["a"]}'],
    ['string extFields', '{"code":1,"extFields":"a=b"}'],
  ])('rejects %s with HeaderError', (_name, text) => {
    const err = (() => {
      try {
        decodeJsonHeader(json(text));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HeaderError);
    expect((err as HeaderError).code).toBe('APG_REMOTING_BAD_HEADER');
  });

  it('decodes arbitrary JSON values into a header or a HeaderError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        try {
          decodeJsonHeader(json(text));
        } catch (e) {
          expect(e).toBeInstanceOf(HeaderError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to encode out-of-range numbers or non-string extFields', () => {
    const base = { code: 1, language: 'JAVA', version: 1, opaque: 1, flag: 0, extFields: {} };
    expect(() => encodeJsonHeader({ ...base, opaque: 2 ** 31 })).toThrow(EncodeError);
    expect(() => encodeJsonHeader({ ...base, code: 1.5 })).toThrow(EncodeError);
    expect(() => encodeJsonHeader({ ...base, extFields: { a: 1 as unknown as string } })).toThrow(EncodeError);
  });
});
