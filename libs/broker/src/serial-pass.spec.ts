import { describe, expect, it } from 'vitest';
import { SerialPass } from './serial-pass.js';

describe('SerialPass', () => {
  it('never overlaps passes and folds the requests made during one into a single further pass', async () => {
    let active = 0;
    let maxActive = 0;
    let passes = 0;
    let release: (() => void) | null = null;
    const p = new SerialPass(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        passes++;
        await new Promise<void>((r) => (release = r));
        active--;
      },
      () => {},
    );
    p.request();
    p.request();
    p.request();
    expect(passes).toBe(1);
    release!();
    await new Promise((r) => setImmediate(r));
    expect(passes).toBe(2);
    release!();
    await new Promise((r) => setImmediate(r));
    expect(passes).toBe(2);
    expect(maxActive).toBe(1);
  });

  it('reports a failed pass and still runs the next request', async () => {
    const errors: unknown[] = [];
    let fail = true;
    let passes = 0;
    const p = new SerialPass(
      async () => {
        passes++;
        if (fail) throw new Error('boom');
      },
      (e) => errors.push(e),
    );
    p.request();
    await new Promise((r) => setImmediate(r));
    expect(errors).toHaveLength(1);
    fail = false;
    p.request();
    await new Promise((r) => setImmediate(r));
    expect(passes).toBe(2);
    expect(errors).toHaveLength(1);
  });
});
