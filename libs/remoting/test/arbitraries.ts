/** fast-check arbitraries shared by the remoting specs. */
import fc from 'fast-check';
import { LanguageCode, SerializeType, type RemotingCommand } from '../src/index.js';

// Deterministic property runs; FC_SEED=<n> explores other seeds.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20_251_121) });

export const languageArb = fc.constantFrom(...Object.keys(LanguageCode));
/** Any code points (no lone surrogates: those are not representable in UTF-8). */
export const textArb = (maxLength: number) => fc.string({ unit: 'binary', maxLength });
export const int32Arb = fc.integer({ min: -0x80000000, max: 0x7fffffff });
export const int16Arb = fc.integer({ min: -0x8000, max: 0x7fff });

export const extFieldsArb = fc.dictionary(fc.oneof(textArb(16), fc.constantFrom('__proto__', 'constructor', 'toString', 'a', 'topic', '')), textArb(48), {
  maxKeys: 8,
  noNullPrototype: true,
});

/** Empty, small, or up to 64 KiB bodies (large ones filled from a seed, fast to generate). */
export const bodyArb: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.record({ len: fc.integer({ min: 1, max: 65536 }), seed: fc.integer({ min: 0, max: 255 }) }).map(({ len, seed }) => {
    const b = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) b[i] = (seed + i * 31) & 0xff;
    return b;
  }),
);

export const serializeTypeArb = fc.constantFrom(SerializeType.JSON, SerializeType.ROCKETMQ);

/** A command encodable in `type` (ROCKETMQ carries code and version as shorts). */
export function commandArb(type: SerializeType): fc.Arbitrary<RemotingCommand> {
  const small = type === SerializeType.ROCKETMQ;
  return fc
    .record({
      code: small ? int16Arb : int32Arb,
      language: languageArb,
      version: small ? int16Arb : int32Arb,
      opaque: int32Arb,
      flag: int32Arb,
      remark: fc.option(textArb(80), { nil: undefined }),
      extFields: extFieldsArb,
      body: bodyArb,
    })
    .map((r) => {
      const cmd: RemotingCommand = {
        code: r.code,
        language: r.language,
        version: r.version,
        opaque: r.opaque,
        flag: r.flag,
        extFields: r.extFields,
      };
      if (r.remark !== undefined) cmd.remark = r.remark;
      if (r.body !== undefined) cmd.body = r.body;
      return cmd;
    });
}

export const typedCommandArb = serializeTypeArb.chain((type) => commandArb(type).map((cmd) => ({ type, cmd })));

/** What a command decodes to: empty bodies vanish; ROCKETMQ drops empty remarks (length 0 = null). */
export function expectedAfterWire(cmd: RemotingCommand, type: SerializeType): RemotingCommand {
  const out: RemotingCommand = { ...cmd, extFields: { ...cmd.extFields } };
  delete out.body;
  delete out.remark;
  if (cmd.body && cmd.body.length > 0) out.body = cmd.body;
  if (cmd.remark !== undefined && !(type === SerializeType.ROCKETMQ && cmd.remark === '')) out.remark = cmd.remark;
  return out;
}

/** Splits a buffer at the given cut points (any order, duplicates allowed). */
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** A command with its body as base64, so that toEqual does not walk 64 KiB buffers byte by byte. */
export function comparable(cmd: RemotingCommand): Omit<RemotingCommand, 'body'> & { body?: string } {
  const { body, ...rest } = cmd;
  return body === undefined ? rest : { ...rest, body: body.toString('base64') };
}
