/**
 * A seeded pseudo-random generator (xorshift32 over a splitmix-scrambled seed): a run's fault
 * schedule, its targets and the bridge halves all follow from `--seed`, so a run is repeated by
 * giving the same seed (the timing of the processes themselves is not reproducible).
 */
export class Rng {
  private s: number;

  constructor(readonly seed: number) {
    let z = (seed + 0x9e3779b9) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    this.s = (z ^ (z >>> 16)) >>> 0 || 1;
  }

  /** The next unsigned 32-bit value. */
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 4_294_967_296;
  }

  /** An integer in [min, max] (both inclusive). */
  between(min: number, max: number): number {
    return max <= min ? min : min + Math.floor(this.float() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
