import { describe, expect, it } from 'vitest';
import { BROKER_DEFAULTS } from '../config.js';
import { parseDelayLevels } from './delay-levels.js';

describe('parseDelayLevels', () => {
  it('parses the default spec into 18 levels from 1 s to 2 h', () => {
    const levels = parseDelayLevels(BROKER_DEFAULTS.messageDelayLevel);
    expect(levels).toHaveLength(18);
    expect(levels).toEqual([
      1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 420_000, 480_000, 540_000, 600_000, 1_200_000, 1_800_000, 3_600_000,
      7_200_000,
    ]);
  });

  it('understands ms and d units and tolerates surrounding and repeated whitespace', () => {
    expect(parseDelayLevels('  50ms   100ms\t1s 2m 1h 1d ')).toEqual([50, 100, 1_000, 120_000, 3_600_000, 86_400_000]);
  });

  it.each(['', '   ', '1x', '1', 's', '1.5s', '-1s', '1s 2', '1s,2s', '1 s', '1S'])('rejects %j', (spec) => {
    expect(() => parseDelayLevels(spec)).toThrow();
  });
});
