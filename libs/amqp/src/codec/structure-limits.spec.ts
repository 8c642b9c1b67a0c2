import { describe, expect, it } from 'vitest';
import { FrameGuard } from './frame-guard.js';
import { checkValue } from './structure-limits.js';
import { AmqpDecodeError, encodeDescribed, encodeList, encodeString, encodeUint } from './types.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const limits = { maxDepth: 4, maxZeroWidthElements: 16 };

describe('checkValue', () => {
  it('passes well-formed values and returns where they end', () => {
    const v = encodeDescribed(0x10, encodeList([encodeString('container'), encodeUint(65536), hex('e00c02a304616d70710461626364')]));
    expect(checkValue(v, 0, v.length)).toBe(v.length);
    // an array of 3 booleans (0x56, one byte each) and of 3 zero-width trues (0x41)
    expect(checkValue(hex('e00503560100'.concat('01')), 0, 7)).toBe(7);
    expect(checkValue(hex('e0020341'), 0, 4)).toBe(4);
  });

  it('refuses an array declaring more zero-width elements than the limit (2^31 trues in 5 bytes)', () => {
    const v = hex('f0000000057fffffff41');
    expect(() => checkValue(v, 0, v.length)).toThrow(/2147483647 zero-width elements/);
    expect(() => checkValue(hex('e0021141'), 0, 4, limits)).toThrow(AmqpDecodeError); // 17 > 16
  });

  it('refuses counts the bytes cannot hold, sizes past the end, odd maps and deep nesting', () => {
    expect(() => checkValue(hex('d000000008ffffffff40404040'), 0, 13)).toThrow(/elements in 4 bytes/);
    expect(() => checkValue(hex('c0ff0140'), 0, 4)).toThrow(/declares 255 bytes/);
    expect(() => checkValue(hex('c1020140'), 0, 4)).toThrow(/odd element count/);
    expect(() => checkValue(hex('f00000000a0000000370000000010000'), 0, 16)).toThrow(/does not fill/);
    let nested: Buffer = hex('45');
    for (let i = 0; i < 6; i++) nested = encodeList([nested]);
    expect(() => checkValue(nested, 0, nested.length, limits)).toThrow(/nested deeper than 4/);
  });
});

describe('FrameGuard against hostile performatives', () => {
  const opts = { maxFrameSize: 65536, channelMax: 255, maxMessageSize: 1 << 20, allowNoSasl: true };

  it('closes on the 32-byte open whose array declares 2^31 zero-width elements, before it reaches rhea', () => {
    const g = new FrameGuard(opts);
    const out = g.push(hex('414d5150000100000000001802000000005310c00b01f0000000057fffffff41'));
    expect(out.failure).toMatchObject({ phase: 'amqp', condition: 'amqp:decode-error' });
    expect(out.failure!.description).toContain('zero-width');
    expect(Buffer.concat(out.forward)).toEqual(hex('414d515000010000')); // only the protocol header went on
  });

  it('caps a flow granting 4,294,967,295 credit at maxLinkCredit, in place', () => {
    const g = new FrameGuard({ ...opts, maxLinkCredit: 1000 });
    g.push(hex('414d515000010000'));
    const flow = hex('0000002302000000005313c01609437000000800437000000800434370ffffffff4341');
    const out = g.push(flow);
    expect(out.failure).toBeUndefined();
    const sent = Buffer.concat(out.forward);
    expect(sent.length).toBe(flow.length);
    expect(sent.readUInt32BE(sent.length - 6)).toBe(1000);
    // a credit within the cap passes unchanged
    const small = hex('0000002302000000005313c01609437000000800437000000800434370000001f44341');
    expect(Buffer.concat(g.push(small).forward)).toEqual(small);
  });
});
