import { describe, expect, it } from 'vitest';
import { JsonLineSplitter } from './json-lines.js';

describe('JsonLineSplitter', () => {
  it('returns whole lines across chunk boundaries and keeps the tail', () => {
    const s = new JsonLineSplitter(100);
    expect(s.push(Buffer.from('{"a":1}\n{"b"'))).toEqual([{ a: 1 }]);
    expect(s.push(Buffer.from(':2}\n\n{"c":3}\n'))).toEqual([{ b: 2 }, { c: 3 }]);
    expect(s.push(Buffer.from('{"d"'))).toEqual([]);
  });

  it('refuses a line over the bound, even one that never ends', () => {
    const s = new JsonLineSplitter(16);
    expect(() => s.push(Buffer.from('{"a":"0123456789abcdef"}\n'))).toThrow(RangeError);
    const t = new JsonLineSplitter(16);
    t.push(Buffer.from('{"a":"01234'));
    expect(() => t.push(Buffer.from('56789abcdef'))).toThrow(RangeError);
  });

  it('refuses a line that is not JSON', () => {
    expect(() => new JsonLineSplitter(100).push(Buffer.from('<html>\n'))).toThrow(SyntaxError);
  });
});
