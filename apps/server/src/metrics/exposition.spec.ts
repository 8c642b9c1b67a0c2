import { Histogram } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { Exposition, escapeLabelValue, formatValue } from './exposition.js';

describe('escapeLabelValue', () => {
  it('escapes backslash, double quote and line feed, and nothing else', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue('%RETRY%g|x-1_é')).toBe('%RETRY%g|x-1_é');
  });
});

describe('Exposition', () => {
  it('writes HELP and TYPE before the samples, labels quoted and escaped', () => {
    const text = new Exposition()
      .family('x_total', 'counter', 'Things\ncounted')
      .sample('x_total', 3, { topic: 'a"b' })
      .single('y', 'gauge', 'Why', NaN)
      .text();
    expect(text).toBe('# HELP x_total Things\\ncounted\n# TYPE x_total counter\nx_total{topic="a\\"b"} 3\n# HELP y Why\n# TYPE y gauge\ny NaN\n');
  });

  it('writes a histogram as cumulative buckets up to +Inf, then _sum and _count', () => {
    const h = new Histogram([0.001, 0.5]);
    h.observe(0.0005);
    h.observe(0.2);
    h.observe(3);
    const lines = new Exposition().histogram('lat_seconds', 'Latency', h.snapshot(), { k: 'v' }).text().trim().split('\n');
    expect(lines).toEqual([
      '# HELP lat_seconds Latency',
      '# TYPE lat_seconds histogram',
      'lat_seconds_bucket{k="v",le="0.001"} 1',
      'lat_seconds_bucket{k="v",le="0.5"} 2',
      'lat_seconds_bucket{k="v",le="+Inf"} 3',
      'lat_seconds_sum{k="v"} 3.2005',
      'lat_seconds_count{k="v"} 3',
    ]);
  });

  it('formats values the way the text format spells them', () => {
    expect([formatValue(Infinity), formatValue(-Infinity), formatValue(1e21), formatValue(0.25)]).toEqual(['+Inf', '-Inf', '1e+21', '0.25']);
  });
});
