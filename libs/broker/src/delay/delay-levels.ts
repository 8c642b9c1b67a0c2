const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses RocketMQ's messageDelayLevel ("1s 5s 10s 30s 1m … 2h") into milliseconds per level (index 0 = level 1). */
export function parseDelayLevels(spec: string): number[] {
  const levels = spec
    .trim()
    .split(/\s+/)
    .map((item) => {
      const m = /^(\d+)(ms|s|m|h|d)$/.exec(item);
      if (!m) throw new Error(`messageDelayLevel entry ${JSON.stringify(item)} is not <number><ms|s|m|h|d>`);
      return Number(m[1]) * UNIT_MS[m[2]!]!;
    });
  if (levels.length === 0) throw new Error('messageDelayLevel is empty');
  return levels;
}
