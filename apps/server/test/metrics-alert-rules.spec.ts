/**
 * The example alert rules (ops/prometheus/apogee-alerts.yml) pass `promtool check rules` and their
 * unit tests (apogee-alerts.test.yml: each alert fires on the series it is meant for). Skipped
 * where promtool is not installed, except under CI=true, where a missing promtool fails the test
 * (.ci/run installs Debian's `prometheus` package for it).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPromtool } from './metrics-helpers.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const RULES = path.join(repoRoot, 'ops/prometheus/apogee-alerts.yml');
const RULE_TESTS = path.join(repoRoot, 'ops/prometheus/apogee-alerts.test.yml');

const promtool = findPromtool();
const ci = process.env['CI'] === 'true';

describe('example Prometheus alert rules', () => {
  it('promtool is there under CI', () => {
    if (ci) expect(promtool, 'promtool is missing: install the prometheus package (.ci/run does)').not.toBeNull();
  });

  it.skipIf(promtool === null)('pass promtool check rules', () => {
    const r = spawnSync(promtool!, ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.skipIf(promtool === null)('fire as their unit tests expect (promtool test rules)', () => {
    const r = spawnSync(promtool!, ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});
