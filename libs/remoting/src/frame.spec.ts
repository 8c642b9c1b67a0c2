import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandArb, comparable, expectedAfterWire, splitAt, typedCommandArb } from '../test/arbitraries.js';
import {
  DEFAULT_MAX_FRAME_SIZE,
  EncodeError,
  FrameDecoder,
  FrameError,
  HeaderError,
  SerializeType,
  decodeFrame,
  encodeFrame,
  encodeFrameHead,
  type RemotingCommand,
} from './index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function pushAll(decoder: FrameDecoder, chunks: Buffer[]): RemotingCommand[] {
  return chunks.flatMap((c) => decoder.push(c));
}

describe('frame fixed vectors', () => {
  it('JSON frame, byte by byte', () => {
    const header = '{"code":310,"extFields":{"a":"g1","b":"T"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":121}';
    // header is 128 B; length = 4 + 128 + 2 = 134 = 0x86; header word = type 0 · 0x000080
    const frame = Buffer.concat([hex('00000086 00000080'), Buffer.from(header, 'ascii'), hex('6869')]);
    const cmd: RemotingCommand = { code: 310, language: 'JAVA', version: 121, opaque: 7, flag: 0, extFields: { a: 'g1', b: 'T' }, body: Buffer.from('hi') };
    expect(encodeFrame(cmd, SerializeType.JSON).toString('hex')).toBe(frame.toString('hex'));
    const decoder = new FrameDecoder();
    const out: RemotingCommand[] = [];
    for (const byte of frame) out.push(...decoder.push(Buffer.of(byte)));
    expect(out).toEqual([cmd]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('ROCKETMQ frame, byte by byte', () => {
    // header 31 B (see rocketmq-header.spec); length = 4 + 31 + 2 = 37 = 0x25; header word 0x01 · 0x00001F
    const frame = hex('00000025 0100001F  000B 09 0191 01020304 00000002 00000002 6F6B 00000008 0001 6B 00000001 76  AABB');
    const cmd: RemotingCommand = {
      code: 11,
      language: 'GO',
      version: 401,
      opaque: 0x01020304,
      flag: 2,
      remark: 'ok',
      extFields: { k: 'v' },
      body: hex('AABB'),
    };
    expect(encodeFrame(cmd, SerializeType.ROCKETMQ).toString('hex')).toBe(frame.toString('hex'));
    const decoder = new FrameDecoder();
    const out: RemotingCommand[] = [];
    for (const byte of frame) out.push(...decoder.push(Buffer.of(byte)));
    expect(out).toEqual([cmd]);
    expect(decodeFrame(frame)).toEqual(cmd);
  });

  it('encodeFrameHead + body equals encodeFrame', () => {
    const cmd: RemotingCommand = { code: 1, language: 'JAVA', version: 0, opaque: 1, flag: 0, extFields: {}, body: Buffer.from('body') };
    expect(Buffer.concat([encodeFrameHead(cmd), cmd.body!])).toEqual(encodeFrame(cmd));
  });
});

describe('frame round trips', () => {
  it('decodeFrame(encodeFrame(cmd)) gives the command back, both serialize types', () => {
    fc.assert(
      fc.property(typedCommandArb, ({ type, cmd }) => {
        expect(comparable(decodeFrame(encodeFrame(cmd, type)))).toEqual(comparable(expectedAfterWire(cmd, type)));
      }),
      { numRuns: 200 },
    );
  });

  it('FrameDecoder decodes several frames identically under any chunking', () => {
    fc.assert(
      fc.property(fc.array(typedCommandArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 30 }), (items, cuts) => {
        const stream = Buffer.concat(items.map(({ type, cmd }) => encodeFrame(cmd, type)));
        const expected = items.map(({ type, cmd }) => comparable(expectedAfterWire(cmd, type)));
        const decoder = new FrameDecoder();
        expect(pushAll(decoder, splitAt(stream, cuts)).map(comparable)).toEqual(expected);
        expect(decoder.bufferedBytes).toBe(0);
        // Everything in one chunk.
        expect(new FrameDecoder().push(stream).map(comparable)).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('FrameDecoder survives 1-byte chunks', () => {
    fc.assert(fc.property(fc.array(commandArb(SerializeType.ROCKETMQ), { minLength: 1, maxLength: 3 }), serializeTypeCmds), { numRuns: 20 });
    function serializeTypeCmds(cmds: RemotingCommand[]): void {
      for (const type of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
        const small = cmds.map((c) => (c.body && c.body.length > 4096 ? { ...c, body: c.body.subarray(0, 4096) } : c));
        const stream = Buffer.concat(small.map((c) => encodeFrame(c, type)));
        const decoder = new FrameDecoder();
        const out: RemotingCommand[] = [];
        for (let i = 0; i < stream.length; i++) out.push(...decoder.push(stream.subarray(i, i + 1)));
        expect(out).toEqual(small.map((c) => expectedAfterWire(c, type)));
      }
    }
  });

  it('bodies decoded from a caller chunk are copies', () => {
    const cmd: RemotingCommand = { code: 1, language: 'JAVA', version: 0, opaque: 1, flag: 0, extFields: {}, body: Buffer.from('abc') };
    const frame = encodeFrame(cmd);
    const [out] = new FrameDecoder().push(frame);
    frame.fill(0);
    expect(out!.body!.toString()).toBe('abc');
  });

  it('accepts a frame of exactly maxFrameSize', () => {
    const cmd: RemotingCommand = { code: 1, language: 'JAVA', version: 0, opaque: 1, flag: 0, extFields: {} };
    const head = encodeFrameHead(cmd);
    const length = 1000;
    const body = Buffer.alloc(length - (head.length - 4));
    const frame = encodeFrame({ ...cmd, body });
    expect(frame.readInt32BE(0)).toBe(length);
    expect(new FrameDecoder({ maxFrameSize: length }).push(frame)).toHaveLength(1);
  });
});

describe('frame errors', () => {
  it('rejects a frame length < 4 (incl. negative) as BAD_FRAME', () => {
    for (const prefix of ['00000003', '00000000', 'FFFFFFFF', '80000000']) {
      const e = caught(() => new FrameDecoder().push(hex(prefix)));
      expect(e).toBeInstanceOf(FrameError);
      expect((e as FrameError).code).toBe('APG_REMOTING_BAD_FRAME');
    }
  });

  it('rejects an oversized frame from its length prefix alone, before buffering it', () => {
    expect(DEFAULT_MAX_FRAME_SIZE).toBe(16_777_216);
    const d = new FrameDecoder();
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(DEFAULT_MAX_FRAME_SIZE + 1);
    const e = caught(() => d.push(prefix));
    expect((e as FrameError).code).toBe('APG_REMOTING_FRAME_TOO_LARGE');
    expect(d.bufferedBytes).toBe(0);

    const small = new FrameDecoder({ maxFrameSize: 64 });
    expect(small.push(hex('0000'))).toEqual([]);
    expect((caught(() => small.push(hex('0041'))) as FrameError).code).toBe('APG_REMOTING_FRAME_TOO_LARGE');
  });

  it('rejects an unknown serialize type or a header length past the frame as soon as the header word arrives', () => {
    const d1 = new FrameDecoder();
    expect(d1.push(hex('00001000'))).toEqual([]);
    expect((caught(() => d1.push(hex('02000004'))) as FrameError).code).toBe('APG_REMOTING_BAD_FRAME');

    const d2 = new FrameDecoder();
    // length 16 leaves 12 bytes for header + body; header length 13 overruns.
    expect((caught(() => d2.push(hex('00000010 0000000D'))) as FrameError).code).toBe('APG_REMOTING_BAD_FRAME');
    // header length 12 exactly fits: waits for the rest.
    expect(new FrameDecoder().push(hex('00000010 0000000C'))).toEqual([]);
  });

  it('rejects an undecodable header as BAD_HEADER and stays failed', () => {
    const d = new FrameDecoder();
    const e = caught(() => d.push(Buffer.concat([hex('00000007 00000003'), Buffer.from('{x}')])));
    expect(e).toBeInstanceOf(HeaderError);
    expect((e as FrameError).code).toBe('APG_REMOTING_BAD_HEADER');
    expect(d.failed).toBe(true);
    expect(caught(() => d.push(Buffer.alloc(0)))).toBe(e);
    const valid = encodeFrame({ code: 1, language: 'JAVA', version: 0, opaque: 1, flag: 0, extFields: {} });
    expect(caught(() => d.push(valid))).toBe(e);
  });

  it('decodeFrame insists on exactly one whole frame', () => {
    const valid = encodeFrame({ code: 1, language: 'JAVA', version: 0, opaque: 1, flag: 0, extFields: {} });
    expect(caught(() => decodeFrame(valid.subarray(0, valid.length - 1)))).toBeInstanceOf(FrameError);
    expect(caught(() => decodeFrame(Buffer.concat([valid, hex('00')])))).toBeInstanceOf(FrameError);
    expect(caught(() => decodeFrame(hex('0000')))).toBeInstanceOf(FrameError);
  });

  it('refuses to encode an unknown serialize type', () => {
    expect(() => encodeFrame({ code: 1, language: 'JAVA', version: 0, opaque: 1, flag: 0, extFields: {} }, 7)).toThrow(EncodeError);
  });
});

describe('large frames', () => {
  it('decodes a 4 MiB frame pushed in 1 KiB chunks', () => {
    const body = Buffer.alloc(4 << 20, 0x5a);
    const cmd: RemotingCommand = { code: 11, language: 'JAVA', version: 0, opaque: 9, flag: 1, extFields: { a: 'b' }, body };
    const frame = encodeFrame(cmd);
    const decoder = new FrameDecoder();
    const out: RemotingCommand[] = [];
    for (let i = 0; i < frame.length; i += 1024) out.push(...decoder.push(frame.subarray(i, i + 1024)));
    expect(out).toHaveLength(1);
    expect(out[0]!.body!.equals(body)).toBe(true);
    expect(decoder.bufferedBytes).toBe(0);
  });
});
