import { describe, expect, it } from 'vitest';
import { alternate, pump, WARMUP } from '../src/runner.js';

describe('alternate', () => {
  it('runs variants round-robin, after one discarded warm-up round', async () => {
    const order: string[] = [];
    const [a, b] = await alternate(3, [async (run: number) => (order.push(`A${run}`), run), async (run: number) => (order.push(`B${run}`), run * 10)], {
      warmup: true,
    });
    expect(order).toEqual([`A${WARMUP}`, `B${WARMUP}`, 'A0', 'B0', 'A1', 'B1', 'A2', 'B2']);
    expect(a).toEqual([0, 1, 2]);
    expect(b).toEqual([0, 10, 20]);
  });
});

describe('pump', () => {
  it('keeps at most `window` operations in flight and completes maxOps', async () => {
    let inFlight = 0;
    let peak = 0;
    const r = await pump({
      window: 8,
      maxOps: 100,
      durationMs: 10_000,
      op: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((res) => setImmediate(res));
        inFlight--;
      },
    });
    expect(r.ops).toBe(100);
    expect(peak).toBe(8);
    expect(inFlight).toBe(0);
  });

  it('stops issuing at the deadline and waits for what is in flight', async () => {
    const r = await pump({ window: 4, maxOps: Number.MAX_SAFE_INTEGER, durationMs: 50, op: () => new Promise((res) => setTimeout(res, 1)) });
    expect(r.ops).toBeGreaterThan(0);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(50);
    expect(r.elapsedMs).toBeLessThan(1000);
  });

  it('rejects on the first failure', async () => {
    await expect(
      pump({
        window: 2,
        maxOps: 10,
        durationMs: 1000,
        op: async (i) => {
          if (i === 3) throw new Error('boom');
        },
      }),
    ).rejects.toThrow('boom');
  });
});
