import { describe, expect, it } from 'vitest';
import { decodeTimerRow, timerKey, timerValue } from './timer-key.js';

describe('timer index keys', () => {
  it('sort like (due, offset) pairs', () => {
    const pairs: Array<[number, number]> = [];
    let seed = 7;
    const rnd = (max: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % max;
    };
    for (let i = 0; i < 2000; i++) pairs.push([1_700_000_000_000 + rnd(1000) * (i % 3 === 0 ? 1 : 1_000_000), rnd(2 ** 30) * 4096]);
    pairs.push([0, 0], [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
    const byKey = [...pairs].sort((a, b) => (timerKey(...a) < timerKey(...b) ? -1 : timerKey(...a) > timerKey(...b) ? 1 : 0));
    const byPair = [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(byKey).toEqual(byPair);
  });

  it('decode back to the row; foreign keys decode to null', () => {
    expect(decodeTimerRow(timerKey(1234, 98765), timerValue(321))).toEqual({ dueMs: 1234, offset: 98765, size: 321 });
    expect(decodeTimerRow('short', timerValue(1))).toBeNull();
    expect(decodeTimerRow(timerKey(1, 2), Buffer.alloc(3))).toBeNull();
    expect(() => timerKey(-1, 0)).toThrow(RangeError);
  });
});
