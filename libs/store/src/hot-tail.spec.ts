import { describe, expect, it } from 'vitest';
import { HotTail } from './hot-tail.js';

const PAGE = 4096;

/** Appends `n` bytes at `pos` (every page they touch is allocated). */
function append(t: HotTail, pos: number, n: number): number {
  t.copyIn(pos, Buffer.alloc(n, 1));
  return pos + n;
}

describe('HotTail', () => {
  it('holds the window and the current page, and keeps spares within a quarter of the window', () => {
    const t = new HotTail(PAGE, 16 * PAGE, 0);
    let pos = 0;
    for (let i = 0; i < 64; i++) {
      pos = append(t, pos, PAGE);
      t.release(pos, pos);
    }
    // 16 pages of window (+ the one appends continue in) and at most 4 spares.
    expect(t.bytes).toBeLessThanOrEqual((16 + 1 + 4) * PAGE);
    expect(t.read(pos - 16 * PAGE, 10)).not.toBeNull();
    expect(t.read(pos - 17 * PAGE - 1, 10)).toBeNull();
  });

  it('keeps no spare when the window is smaller than four pages', () => {
    const t = new HotTail(PAGE, 2 * PAGE, 0);
    let pos = 0;
    for (let i = 0; i < 10; i++) {
      pos = append(t, pos, PAGE);
      t.release(pos, pos);
    }
    expect(t.bytes).toBeLessThanOrEqual(3 * PAGE);
  });

  it('never drops pages not yet written, whatever the window', () => {
    const t = new HotTail(PAGE, PAGE, 0);
    const end = append(t, 0, 8 * PAGE);
    t.release(0, end);
    expect(t.read(0, 10)).not.toBeNull();
    t.shrink(0, end);
    expect(t.read(0, 10)).not.toBeNull();
  });

  it('gives back all but the current page once appends stop (shrink), and serves older bytes no more', () => {
    const t = new HotTail(PAGE, 16 * PAGE, 0);
    let pos = 0;
    for (let i = 0; i < 40; i++) {
      pos = append(t, pos, PAGE);
      t.release(pos, pos);
    }
    pos = append(t, pos, 100);
    t.release(pos, pos);
    t.shrink(pos, pos);
    expect(t.bytes).toBe(PAGE);
    expect(t.read(pos - 100, 100)).not.toBeNull();
    expect(t.read(pos - PAGE, 10)).toBeNull();
    // Appends carry on in fresh pages.
    pos = append(t, pos, 3 * PAGE);
    expect(t.read(pos - 10, 10)).not.toBeNull();
  });
});
