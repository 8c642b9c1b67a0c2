import { describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../src/cli.js';
import { suiteNames } from '../src/suites/index.js';

describe('cli', () => {
  it('parses a suite, --quick and --only', () => {
    expect(parseCli(['store', '--quick'])).toEqual({ suite: 'store', quick: true, only: null, help: false });
    expect(parseCli(['--only=a,b', 'store']).only).toEqual(new Set(['a', 'b']));
    expect(parseCli(['store', '--only', 'a']).only).toEqual(new Set(['a']));
  });

  it('rejects what it does not know', () => {
    expect(() => parseCli([])).toThrow(UsageError);
    expect(() => parseCli(['store', '--fast'])).toThrow(/unknown option --fast/);
    expect(() => parseCli(['store', 'mqtt'])).toThrow(/one suite per run/);
    expect(() => parseCli(['store', '--only'])).toThrow(UsageError);
  });

  it('registers the store suite', () => {
    expect(suiteNames()).toContain('store');
  });
});
