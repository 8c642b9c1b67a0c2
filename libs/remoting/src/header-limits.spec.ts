import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameError, HeaderError, MAX_DECODED_HEADER_LENGTH, decodeJsonHeader, decodeRocketMqHeader, encodeRocketMqHeader } from './index.js';
import { MAX_EXT_FIELDS } from './values.js';

/** A frame's first 8 bytes: total length, then the header word (serialize type JSON, header length). */
function frameHead(length: number, headerLength: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(length, 0);
  b.writeUInt32BE(headerLength, 4);
  return b;
}

describe('header limits (checked before the header is parsed)', () => {
  it('a header longer than MAX_DECODED_HEADER_LENGTH fails on its header word, before its bytes are waited for', () => {
    const d = new FrameDecoder();
    const headerLength = MAX_DECODED_HEADER_LENGTH + 1;
    expect(() => d.push(frameHead(4 + headerLength, headerLength))).toThrow(FrameError);
    expect(() => d.push(Buffer.alloc(0))).toThrow(/exceeds the maximum 1048576/);
  });

  it('a header length beyond its frame still fails as before', () => {
    expect(() => new FrameDecoder().push(frameHead(100, 200))).toThrow(/header length 200 exceeds frame length 100 - 4/);
  });

  it('a JSON header with more than MAX_EXT_FIELDS extFields is refused', () => {
    const ext: Record<string, string> = {};
    for (let i = 0; i <= MAX_EXT_FIELDS; i++) ext[`k${i}`] = '';
    const ok = { ...ext };
    delete ok['k0'];
    expect(() => decodeJsonHeader(Buffer.from(JSON.stringify({ code: 10, extFields: ext })))).toThrow(HeaderError);
    expect(() => decodeJsonHeader(Buffer.from(JSON.stringify({ code: 10, extFields: ext })))).toThrow(/more than 1024 extFields/);
    expect(Object.keys(decodeJsonHeader(Buffer.from(JSON.stringify({ code: 10, extFields: ok }))).extFields)).toHaveLength(MAX_EXT_FIELDS);
  });

  it('a ROCKETMQ header with more than MAX_EXT_FIELDS extFields is refused', () => {
    const ext: Record<string, string> = {};
    for (let i = 0; i <= MAX_EXT_FIELDS; i++) ext[`k${i}`] = '';
    const bytes = encodeRocketMqHeader({ code: 10, language: 'JAVA', version: 0, opaque: 1, flag: 0, extFields: ext });
    expect(() => decodeRocketMqHeader(bytes)).toThrow(/more than 1024 extFields/);
  });
});
