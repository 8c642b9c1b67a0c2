import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatNumber, ratioOf, Reporter, targetMet } from '../src/report.js';

describe('report', () => {
  it('makes a ratio above 1 mean Apogee ahead for both directions', () => {
    expect(ratioOf('higher', 200, 100)).toBe(2);
    expect(ratioOf('lower', 50, 100)).toBe(2);
    expect(ratioOf('higher', 1, 0)).toBeNull();
  });

  it('reports medians, keeps min/max for the table and writes exactly the documented JSON', async () => {
    const r = new Reporter('store', true);
    r.add({
      scenario: 'append',
      metric: 'put',
      unit: 'MB/s',
      better: 'higher',
      samples: [70, 90, 80],
      baseline: { name: 'raw', samples: [100, 120, 110] },
      target: { on: 'ratio', op: '>=', value: 0.7 },
    });
    r.add({ scenario: 'mem', metric: 'rss', unit: 'MiB', better: 'lower', samples: [3, 1, 2] });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-report-test-'));
    try {
      const file = await r.writeJson(dir);
      const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      expect(Object.keys(json).sort()).toEqual(['cpus', 'node', 'quick', 'results', 'startedAt', 'suite']);
      expect(json['suite']).toBe('store');
      expect(json['quick']).toBe(true);
      const results = json['results'] as Array<Record<string, unknown>>;
      expect(results[0]).toEqual({
        scenario: 'append',
        metric: 'put',
        unit: 'MB/s',
        value: 80,
        better: 'higher',
        baseline: { name: 'raw', value: 110 },
        ratio: 80 / 110,
      });
      expect(results[1]).toEqual({ scenario: 'mem', metric: 'rss', unit: 'MiB', value: 2, better: 'lower', baseline: null, ratio: null });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const table = r.formatTable();
    expect(table).toContain('70.0–90.0');
    expect(table).toContain('ratio ≥ 0.7 met');
  });

  it('checks targets on the ratio or the value', () => {
    expect(targetMet({ value: 5, ratio: 0.5, target: { on: 'ratio', op: '>=', value: 0.7 } })).toBe(false);
    expect(targetMet({ value: 1.2, ratio: null, target: { on: 'value', op: '<=', value: 1.5 } })).toBe(true);
    expect(targetMet({ value: 1, ratio: 1, target: null })).toBeNull();
  });

  it('formats numbers to about three significant digits', () => {
    expect(formatNumber(1234567.8)).toBe('1,234,568');
    expect(formatNumber(41.26)).toBe('41.3');
    expect(formatNumber(4.126)).toBe('4.13');
    expect(formatNumber(0.04126)).toBe('0.0413');
  });
});
