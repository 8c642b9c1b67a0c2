import type { Prng } from './prng.js';

/** A valid frame and where its length and count fields are (byte offsets of 32-bit big-endian words, or varints). */
export interface FrameSample {
  bytes: Buffer;
  /** Offsets of 32-bit big-endian length/count words a lying-length mutation may overwrite. */
  lengthWords?: number[];
  /** Offsets of single-byte length/count fields (AMQP list8/str8 sizes and counts, MQTT string lengths). */
  lengthBytes?: number[];
}

/** What was done to a frame. */
export type Mutation = 'none' | 'bit-flip' | 'lying-length' | 'truncate' | 'insert' | 'duplicate' | 'garbage';

/** Values a lying length or count takes: edges and huge ones that must be refused before allocation. */
const LIES = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/**
 * One mutation of `sample`, chosen by `rng`: bit flips, a lying length or count, truncation,
 * inserted or duplicated bytes, or garbage of the same size. The input is not changed.
 */
export function mutate(sample: FrameSample, rng: Prng): { bytes: Buffer; mutation: Mutation } {
  const src = sample.bytes;
  const kind = rng.int(6);
  if (kind === 0 || src.length === 0) {
    const b = Buffer.from(src);
    const flips = 1 + rng.int(8);
    for (let i = 0; i < flips && b.length > 0; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
    return { bytes: b, mutation: 'bit-flip' };
  }
  if (kind === 1) {
    const b = Buffer.from(src);
    const words = (sample.lengthWords ?? []).filter((o) => o + 4 <= b.length);
    const single = (sample.lengthBytes ?? []).filter((o) => o < b.length);
    if (words.length > 0 && (single.length === 0 || rng.chance(0.5))) {
      const lie = rng.chance(0.7) ? rng.pick(LIES) : rng.next();
      b.writeUInt32BE(lie >>> 0, rng.pick(words));
    } else if (single.length > 0) b[rng.pick(single)] = rng.pick([0, 1, 0x7f, 0x80, 0xfe, 0xff]);
    else if (b.length >= 4) b.writeUInt32BE(rng.pick(LIES) >>> 0, rng.int(b.length - 3));
    return { bytes: b, mutation: 'lying-length' };
  }
  if (kind === 2) return { bytes: Buffer.from(src.subarray(0, rng.int(src.length))), mutation: 'truncate' };
  if (kind === 3) {
    const at = rng.int(src.length + 1);
    return { bytes: Buffer.concat([src.subarray(0, at), rng.bytes(1 + rng.int(16)), src.subarray(at)]), mutation: 'insert' };
  }
  if (kind === 4) {
    const from = rng.int(src.length);
    const to = from + 1 + rng.int(Math.min(64, src.length - from));
    const at = rng.int(src.length + 1);
    return { bytes: Buffer.concat([src.subarray(0, at), src.subarray(from, to), src.subarray(at)]), mutation: 'duplicate' };
  }
  return { bytes: rng.bytes(src.length), mutation: 'garbage' };
}
