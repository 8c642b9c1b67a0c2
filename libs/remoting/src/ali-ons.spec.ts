/**
 * Cross-check with ali-ons 3.12.0, an independent implementation: its encoder → our FrameDecoder,
 * our encoder → its decoder (which reads the header length without masking the type byte, facts §10).
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { bodyArb, splitAt, textArb } from '../test/arbitraries.js';
import {
  FrameDecoder,
  RequestCode,
  ResponseCode,
  SerializeType,
  encodeFrame,
  isOneway,
  isResponse,
  makeResponse,
  requireBool,
  requireInt,
  requireLong,
  toExtFields,
  type RemotingCommand,
} from './index.js';

interface AliCommand {
  code: number;
  opaque: number;
  flag: number;
  remark?: string;
  extFields: Record<string, unknown>;
  body: Buffer | null | undefined;
  readonly language: string;
  readonly version: number;
  readonly isResponseType: boolean;
  readonly isOnewayRPC: boolean;
  markOnewayRPC(): void;
  encode(): Buffer;
  decodeCommandCustomHeader(): Record<string, unknown>;
}
interface AliCommandClass {
  new (options: { code: number; opaque?: number; flag?: number; remark?: string; extFields?: Record<string, unknown> }): AliCommand;
  createRequestCommand(code: number, customHeader?: Record<string, unknown>): AliCommand;
  decode(packet: Buffer): AliCommand;
}

const require = createRequire(import.meta.url);
const AliRemotingCommand = require('ali-ons/lib/protocol/command/remoting_command.js') as AliCommandClass;

/** Decodes one frame with a fresh FrameDecoder, fed in the chunks `cuts` makes. */
function decodeOne(frame: Buffer, cuts: number[] = []): RemotingCommand {
  const decoder = new FrameDecoder();
  const out = splitAt(frame, cuts).flatMap((c) => decoder.push(c));
  expect(out).toHaveLength(1);
  expect(decoder.bufferedBytes).toBe(0);
  return out[0]!;
}

describe('ali-ons → Apogee', () => {
  it('decodes a SEND_MESSAGE_V2 request as ali-ons encodes it (raw numbers and booleans coerced)', () => {
    const req = AliRemotingCommand.createRequestCommand(RequestCode.SEND_MESSAGE_V2, {
      a: 'PG',
      b: 'TopicTest',
      c: 'TBW102',
      d: 4,
      e: -1,
      f: 0,
      g: 1700000000123,
      h: 0,
      i: 'TAGS\u0001null\u0002',
      j: 0,
      k: false,
      n: null,
      o: undefined,
    });
    req.body = Buffer.from('hello \u4e16\u754c');
    const cmd = decodeOne(req.encode());
    expect(cmd.code).toBe(310);
    expect(cmd.language).toBe('JAVA');
    expect(cmd.version).toBe(121);
    expect(cmd.opaque).toBe(req.opaque);
    expect(cmd.flag).toBe(0);
    expect(isResponse(cmd)).toBe(false);
    expect(cmd.remark).toBeUndefined();
    expect(cmd.extFields).toEqual({
      a: 'PG',
      b: 'TopicTest',
      c: 'TBW102',
      d: '4',
      e: '-1',
      f: '0',
      g: '1700000000123',
      h: '0',
      i: 'TAGS\u0001null\u0002',
      j: '0',
      k: 'false',
    });
    expect(requireInt(cmd.extFields, 'e')).toBe(-1);
    expect(requireLong(cmd.extFields, 'g')).toBe(1700000000123);
    expect(requireBool(cmd.extFields, 'k')).toBe(false);
    expect(cmd.body!.toString()).toBe('hello \u4e16\u754c');
  });

  it('decodes a oneway request and null extFields values', () => {
    const req = new AliRemotingCommand({ code: RequestCode.UPDATE_CONSUMER_OFFSET, extFields: { consumerGroup: 'G', commitOffset: -1, x: null } });
    req.markOnewayRPC();
    const cmd = decodeOne(req.encode());
    expect(isOneway(cmd)).toBe(true);
    expect(cmd.extFields).toEqual({ consumerGroup: 'G', commitOffset: '-1' });
    expect(cmd.body).toBeUndefined();
  });

  it('decodes random ali-ons requests in random chunkings', () => {
    const headerArb = fc.dictionary(
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }),
      fc.oneof(textArb(30), fc.integer(), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.boolean(), fc.constant(null)),
      { maxKeys: 8, noNullPrototype: true },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), headerArb, bodyArb, fc.array(fc.nat(), { maxLength: 8 }), (code, header, body, cuts) => {
        const req = AliRemotingCommand.createRequestCommand(code, header);
        if (body) req.body = body;
        const cmd = decodeOne(req.encode(), cuts);
        expect(cmd.code).toBe(code);
        expect(cmd.opaque).toBe(req.opaque);
        const expected: Record<string, string> = {};
        for (const [k, v] of Object.entries(header)) if (v !== null) expected[k] = String(v);
        expect(cmd.extFields).toEqual(expected);
        expect((cmd.body ?? Buffer.alloc(0)).equals(body ?? Buffer.alloc(0))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('Apogee → ali-ons', () => {
  it('ali-ons decodes our JSON response: same opaque, response flag, header fields, body', () => {
    const request: RemotingCommand = { code: 310, language: 'JAVA', version: 121, opaque: 77, flag: 0, extFields: {} };
    const res = makeResponse(request, ResponseCode.SUCCESS, {
      remark: 'ok \u00e9',
      extFields: toExtFields({ msgId: '0A0000010000000000000001', queueId: 3, queueOffset: 123456789012, transactionId: undefined }),
      body: Buffer.from([1, 2, 3]),
    });
    const ali = AliRemotingCommand.decode(encodeFrame(res, SerializeType.JSON));
    expect(ali.code).toBe(0);
    expect(ali.opaque).toBe(77);
    expect(ali.isResponseType).toBe(true);
    expect(ali.isOnewayRPC).toBe(false);
    expect(ali.remark).toBe('ok \u00e9');
    expect(ali.decodeCommandCustomHeader()).toEqual({ msgId: '0A0000010000000000000001', queueId: '3', queueOffset: '123456789012' });
    expect([...ali.body!]).toEqual([1, 2, 3]);
  });

  it('ali-ons decodes any of our JSON responses', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.integer({ min: -1000, max: 300000 }),
        fc.option(textArb(40), { nil: undefined }),
        fc.dictionary(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }), textArb(30), { maxKeys: 6, noNullPrototype: true }),
        bodyArb,
        (opaque, code, remark, extFields, body) => {
          const res = makeResponse({ opaque }, code, { extFields, ...(remark !== undefined && { remark }), ...(body && { body }) });
          const ali = AliRemotingCommand.decode(encodeFrame(res, SerializeType.JSON));
          expect(ali.code).toBe(code);
          expect(ali.opaque).toBe(opaque);
          expect(ali.isResponseType).toBe(true);
          expect(ali.remark).toBe(remark);
          expect(ali.decodeCommandCustomHeader()).toEqual(extFields);
          expect((ali.body ?? Buffer.alloc(0)).equals(body ?? Buffer.alloc(0))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});
