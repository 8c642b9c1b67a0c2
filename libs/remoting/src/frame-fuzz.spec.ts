/** Bad input: the decoder only ever throws FrameError (never a native error) and always returns. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitAt, typedCommandArb } from '../test/arbitraries.js';
import { FrameDecoder, FrameError, encodeFrame, type RemotingCommand } from './index.js';

function expectTypedFailureOrCommands(chunks: Buffer[], maxFrameSize: number): void {
  const decoder = new FrameDecoder({ maxFrameSize });
  try {
    for (const c of chunks) {
      for (const cmd of decoder.push(c)) checkShape(cmd);
    }
  } catch (e) {
    expect(e).toBeInstanceOf(FrameError);
    const cause = (e as FrameError).cause;
    // A JSON SyntaxError may be the cause of a HeaderError; range/type errors would be codec bugs.
    expect(cause instanceof RangeError || cause instanceof TypeError).toBe(false);
    expect(decoder.failed).toBe(true);
  }
}

function checkShape(cmd: RemotingCommand): void {
  for (const k of ['code', 'version', 'opaque', 'flag'] as const) expect(Number.isInteger(cmd[k])).toBe(true);
  expect(typeof cmd.language).toBe('string');
  for (const v of Object.values(cmd.extFields)) expect(typeof v).toBe('string');
  if (cmd.remark !== undefined) expect(typeof cmd.remark).toBe('string');
  if (cmd.body !== undefined) expect(Buffer.isBuffer(cmd.body)).toBe(true);
}

const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({
    kind: fc.constant('int' as const),
    at: fc.nat(),
    value: fc.constantFrom(-1, 0, 3, 4, 0x7fffffff, -0x80000000, 0x00ffffff, 0x01000000, 0x02000000),
  }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never;

function mutate(frame: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(frame);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'set') b[at] = m.value;
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else if (at + 4 <= b.length) b.writeInt32BE(m.value, at - (at % 4));
  }
  return b;
}

describe('FrameDecoder bad input', () => {
  it('random bytes in random chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 }), fc.constantFrom(64, 4096, 16_777_216), (a, cuts, max) => {
        expectTypedFailureOrCommands(splitAt(Buffer.from(a), cuts), max);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes behind a plausible frame prefix', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2, 0xff), fc.uint8Array({ minLength: 0, maxLength: 200 }), (type, rest) => {
        const frame = Buffer.alloc(8 + rest.length);
        frame.writeInt32BE(4 + rest.length, 0);
        frame.writeUInt32BE(((type << 24) | Math.min(rest.length, 0xffffff)) >>> 0, 4);
        Buffer.from(rest).copy(frame, 8);
        expectTypedFailureOrCommands([frame], 4096);
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated valid frames', () => {
    const smallCmd = typedCommandArb.map(({ type, cmd }) => ({
      type,
      cmd: cmd.body && cmd.body.length > 256 ? { ...cmd, body: cmd.body.subarray(0, 256) } : cmd,
    }));
    fc.assert(
      fc.property(
        fc.array(smallCmd, { minLength: 1, maxLength: 3 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (items, mutations, cuts) => {
          const stream = Buffer.concat(items.map(({ type, cmd }) => encodeFrame(cmd, type)));
          expectTypedFailureOrCommands(splitAt(mutate(stream, mutations), cuts), 1 << 20);
        },
      ),
      { numRuns: 500 },
    );
  });
});
