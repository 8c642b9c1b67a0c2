import { describe, expect, it } from 'vitest';
import { countDurationMs, parseCli, timeBoundMs } from './cli.js';
import { DEFAULTS } from './run.js';

const log = (): void => {};

describe('the chaos command line', () => {
  it('takes the documented flags', () => {
    const { opts, report } = parseCli(
      [
        '--topology',
        'cluster',
        '--faults',
        'kill,bridge',
        '--duration',
        '90s',
        '--rate',
        '50',
        '--seed',
        '9',
        '--report',
        'r.json',
        '--hold',
        '2s..3s',
        '--loss',
        '5..40',
        '--target',
        'mixed',
        '--flush',
        'async',
        '--keep-data',
      ],
      log,
    );
    expect(report).toBe('r.json');
    expect(opts).toMatchObject({
      topology: 'cluster',
      faults: ['kill', 'bridge'],
      durationMs: 90_000,
      rate: 50,
      seed: 9,
      hold: { minMs: 2000, maxMs: 3000 },
      recover: DEFAULTS.recover,
      lossPercent: { min: 5, max: 40 },
      target: 'mixed',
      flush: 'async',
      keepData: true,
    });
  });

  it('defaults to the single topology, the four single-host faults, 60 s at 200/s, flush sync', () => {
    const { opts } = parseCli([], log);
    expect(opts).toMatchObject({ topology: 'single', faults: ['kill', 'suspend', 'partition', 'loss'], durationMs: 60_000, rate: 200, flush: 'sync' });
  });

  it('takes the ha topology and its options; --count sets the duration unless --duration is given', () => {
    const { opts } = parseCli(
      [
        '--topology',
        'ha',
        '--faults',
        'kill',
        '--count',
        '20',
        '--brokers',
        '3',
        '--replication',
        'async',
        '--min-in-sync-replicas',
        '2',
        '--route-refresh',
        '1s',
      ],
      log,
    );
    expect(opts).toMatchObject({ topology: 'ha', count: 20, brokers: 3, replication: 'async', minInSyncReplicas: 2, routeRefreshMs: 1000 });
    // Until the 20th fault's recovery ends.
    expect(opts.durationMs).toBe(countDurationMs(opts));
    expect(opts.durationMs).toBeGreaterThan(5000 + 20 * 10_000);
    expect(opts.durationMs).toBeLessThanOrEqual(5000 + 20 * 20_000);
    expect(parseCli(['--count', '3', '--duration', '30s'], log).opts.durationMs).toBe(30_000);
    expect(parseCli(['--duration', '30s', '--count', '3'], log).opts.durationMs).toBe(30_000);
    expect(parseCli([], log).opts).toMatchObject({ count: 0, brokers: 2, replication: 'sync' });
    expect(parseCli([], log).opts.routeRefreshMs).toBeUndefined();
    expect(() => parseCli(['--brokers', '4'], log)).toThrow(/2 or 3/);
    expect(() => parseCli(['--replication', 'quorum'], log)).toThrow(/sync\|async/);
  });

  it('refuses unknown topologies, faults, flags and bad numbers', () => {
    expect(() => parseCli(['--topology', 'mesh'], log)).toThrow(/single\|cluster\|ha/);
    expect(() => parseCli(['--faults', 'kill,flood'], log)).toThrow(/unknown fault flood/);
    expect(() => parseCli(['--bogus'], log)).toThrow(/unknown flag/);
    expect(() => parseCli(['--rate', '0'], log)).toThrow(/--rate/);
    expect(() => parseCli(['--loss', '50..150'], log)).toThrow(/percentage/);
    expect(() => parseCli(['--seed'], log)).toThrow(/needs a value/);
  });

  it('bounds every run: the duration plus drain, verification, a hold and setup time', () => {
    const { opts } = parseCli(['--duration', '60s', '--drain', '30s'], log);
    expect(timeBoundMs(opts)).toBe(60_000 + 60_000 + 10_000 + 180_000);
  });
});
