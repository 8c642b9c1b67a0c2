import { describe, expect, it } from 'vitest';
import { countDurationMs } from './cli.js';
import { MAX_FAULTS, type ScheduleOptions, buildSchedule, parseDuration, parseKinds, parseRange } from './schedule.js';

const base: ScheduleOptions = {
  kinds: ['kill', 'suspend', 'partition', 'loss'],
  seed: 7,
  durationMs: 60_000,
  warmupMs: 5000,
  hold: { minMs: 5000, maxMs: 10_000 },
  recover: { minMs: 5000, maxMs: 10_000 },
  lossPercent: { min: 10, max: 30 },
  target: 'master',
};

describe('the fault schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(buildSchedule(base)).toEqual(buildSchedule({ ...base }));
    expect(buildSchedule({ ...base, seed: 8 })).not.toEqual(buildSchedule(base));
  });

  it('starts after the warm-up, keeps faults apart by hold + recover, and ends every hold inside the duration', () => {
    for (let seed = 0; seed < 50; seed++) {
      const s = buildSchedule({ ...base, seed });
      expect(s.length).toBeGreaterThan(0);
      expect(s[0]!.atMs).toBe(5000);
      for (const [i, f] of s.entries()) {
        expect(f.index).toBe(i);
        expect(f.holdMs).toBeGreaterThanOrEqual(5000);
        expect(f.holdMs).toBeLessThanOrEqual(10_000);
        expect(f.recoverMs).toBeGreaterThanOrEqual(5000);
        expect(f.recoverMs).toBeLessThanOrEqual(10_000);
        expect(f.atMs + f.holdMs).toBeLessThanOrEqual(60_000);
        if (i > 0) expect(f.atMs).toBe(s[i - 1]!.atMs + s[i - 1]!.holdMs + s[i - 1]!.recoverMs);
      }
    }
  });

  it('takes the kinds in the order given, so as many faults as kinds has each once', () => {
    const s = buildSchedule({ ...base, durationMs: 1_000_000 });
    expect(s.slice(0, 6).map((f) => f.kind)).toEqual(['kill', 'suspend', 'partition', 'loss', 'kill', 'suspend']);
  });

  it('stops after --count faults, and the duration --count implies fits exactly that many', () => {
    const s = buildSchedule({ ...base, durationMs: 1_000_000, count: 7 });
    expect(s).toHaveLength(7);
    expect(s).toEqual(buildSchedule({ ...base, durationMs: 1_000_000 }).slice(0, 7));
    for (let seed = 0; seed < 20; seed++) {
      const o = { ...base, faults: [...base.kinds], seed, count: 20 };
      const durationMs = countDurationMs(o);
      expect(durationMs).toBeLessThanOrEqual(5000 + 20 * 20_000);
      const s = buildSchedule({ ...base, seed, durationMs, count: 20 });
      expect(s).toHaveLength(20);
      expect(s.at(-1)!.atMs + s.at(-1)!.holdMs + s.at(-1)!.recoverMs).toBe(durationMs);
    }
  });

  it('draws a loss percentage for loss faults only, within its range', () => {
    for (const f of buildSchedule({ ...base, durationMs: 1_000_000 })) {
      if (f.kind === 'loss') {
        expect(f.lossPercent).toBeGreaterThanOrEqual(10);
        expect(f.lossPercent).toBeLessThanOrEqual(30);
      } else expect(f.lossPercent).toBeUndefined();
    }
  });

  it('draws master or minority per fault when mixed, and keeps the given target otherwise', () => {
    const mixed = buildSchedule({ ...base, durationMs: 1_000_000, target: 'mixed' }).map((f) => f.target);
    expect(new Set(mixed)).toEqual(new Set(['master', 'minority']));
    expect(new Set(buildSchedule({ ...base, target: 'minority' }).map((f) => f.target))).toEqual(new Set(['minority']));
  });

  it('is empty without kinds or when no hold fits, and bounded in count', () => {
    expect(buildSchedule({ ...base, kinds: [] })).toEqual([]);
    expect(buildSchedule({ ...base, durationMs: 9000 })).toEqual([]);
    const tiny = buildSchedule({ ...base, hold: { minMs: 1, maxMs: 1 }, recover: { minMs: 0, maxMs: 0 }, durationMs: 10_000_000 });
    expect(tiny.length).toBe(MAX_FAULTS);
  });

  it('refuses empty or reversed ranges', () => {
    expect(() => buildSchedule({ ...base, hold: { minMs: 0, maxMs: 0 } })).toThrow(/hold/);
    expect(() => buildSchedule({ ...base, recover: { minMs: 5, maxMs: 1 } })).toThrow(/recover/);
  });
});

describe('schedule arguments', () => {
  it('parses durations, ranges and kinds', () => {
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('3')).toBe(3000);
    expect(parseDuration('0.5s')).toBe(500);
    expect(() => parseDuration('soon')).toThrow(/duration/);
    expect(parseRange('5s..10s')).toEqual({ minMs: 5000, maxMs: 10_000 });
    expect(parseRange('2s')).toEqual({ minMs: 2000, maxMs: 2000 });
    expect(() => parseRange('10s..5s')).toThrow(/before/);
    expect(parseKinds('kill, loss,bridge')).toEqual(['kill', 'loss', 'bridge']);
    expect(() => parseKinds('kill,meteor')).toThrow(/unknown fault meteor/);
  });
});
