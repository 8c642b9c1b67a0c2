import { describe, expect, it } from 'vitest';
import { RateLimitedWarnings } from './rate-limited-warnings.js';

/** A manual clock and timer queue: time moves only when the test says so. */
function harness(burst = 2, intervalMs = 1000) {
  let t = 0;
  const timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const limiter = new RateLimitedWarnings(
    { warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) },
    {
      burst,
      intervalMs,
      now: () => t,
      schedule: (fn, ms) => {
        const timer = { at: t + ms, fn, live: true };
        timers.push(timer);
        return () => (timer.live = false);
      },
    },
  );
  const advance = (ms: number) => {
    t += ms;
    for (const timer of timers.filter((x) => x.live && x.at <= t)) {
      timer.live = false;
      timer.fn();
    }
  };
  /** Moves the clock without running timers (a timer that is late). */
  const jump = (ms: number) => (t += ms);
  const pending = () => timers.filter((x) => x.live).length;
  return { limiter, lines, advance, jump, pending };
}

describe('RateLimitedWarnings', () => {
  it('writes up to the burst per key and window, then one summary when the window ends', () => {
    const h = harness(2, 1000);
    for (let i = 0; i < 5; i++) h.limiter.warn('remoting:SYSTEM_ERROR', { i }, 'broker: request refused');
    expect(h.lines.map((l) => l.obj['i'])).toEqual([0, 1]);
    expect(h.pending()).toBe(1);
    h.advance(999);
    expect(h.lines).toHaveLength(2);
    h.advance(1);
    expect(h.lines).toHaveLength(3);
    expect(h.lines[2]).toEqual({
      obj: { key: 'remoting:SYSTEM_ERROR', suppressed: 3 },
      msg: 'broker: request refused: suppressed 3 similar warnings in 1 s',
    });
  });

  it('keeps keys apart: one noisy kind does not hide another', () => {
    const h = harness(1, 1000);
    expect(h.limiter.warn('a', {}, 'A')).toBe(true);
    expect(h.limiter.warn('a', {}, 'A')).toBe(false);
    expect(h.limiter.warn('b', {}, 'B')).toBe(true);
    expect(h.lines.map((l) => l.msg)).toEqual(['A', 'B']);
  });

  it('opens a new window after the interval: lines are written again', () => {
    const h = harness(1, 1000);
    h.limiter.warn('k', { n: 1 }, 'm');
    h.advance(1000);
    expect(h.limiter.warn('k', { n: 2 }, 'm')).toBe(true);
    expect(h.lines.map((l) => l.obj['n'])).toEqual([1, 2]);
    expect(h.pending()).toBe(0);
  });

  it('writes no summary when nothing was suppressed, and the singular for one', () => {
    const h = harness(1, 2000);
    h.limiter.warn('k', {}, 'm');
    h.advance(5000);
    expect(h.lines).toHaveLength(1);
    h.limiter.warn('k', {}, 'm');
    h.limiter.warn('k', {}, 'last one');
    h.advance(2000);
    expect(h.lines.at(-1)!.msg).toBe('last one: suppressed 1 similar warning in 2 s');
  });

  it('summarises a window that ended before its timer ran, once', () => {
    const h = harness(1, 1000);
    h.limiter.warn('k', {}, 'm');
    h.limiter.warn('k', {}, 'm');
    // The timer is late (a busy event loop): the next warning closes the old window itself.
    const late = h.lines.length;
    h.jump(1500);
    h.limiter.warn('k', { n: 'new' }, 'm');
    expect(h.lines.slice(late).map((l) => l.msg)).toEqual(['m: suppressed 1 similar warning in 1 s', 'm']);
    expect(h.pending()).toBe(0);
  });

  it('flush() writes pending summaries at once and cancels their timers', () => {
    const h = harness(1, 60_000);
    h.limiter.warn('x', {}, 'X');
    h.limiter.warn('x', {}, 'X');
    h.limiter.warn('y', {}, 'Y');
    h.limiter.flush();
    expect(h.lines.map((l) => l.msg)).toEqual(['X', 'Y', 'X: suppressed 1 similar warning in 60 s']);
    expect(h.pending()).toBe(0);
    h.limiter.flush();
    expect(h.lines).toHaveLength(3);
  });

  it('refuses a nonsensical limit', () => {
    expect(() => new RateLimitedWarnings({ warn() {} }, { burst: 0 })).toThrow(/burst/);
    expect(() => new RateLimitedWarnings({ warn() {} }, { intervalMs: 0 })).toThrow(/intervalMs/);
  });
});
