/**
 * A short run of the `ha` topology through the real harness: three etcd members, a NameServer and
 * a group of two brokers with `--controller`, `--replication sync` and `--flush sync`, each in its
 * own namespace; two faults of each kind that forces a failover — SIGKILL (then a restart on the
 * same data directory, as a replica), partition and SIGSTOP/SIGCONT — each on the master of that
 * moment. Every acknowledged send must be consumed, nothing unexpected, the master must have
 * changed (the epoch grew), and no namespace or process of the run may be left. No wall-clock
 * threshold is asserted: the unavailable seconds are printed, not checked. Skipped when not root,
 * without `ip netns` or without etcd, except under CI=true, where that is a failure.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ETCD_BIN } from '../src/etcd.js';
import { NS_PREFIX, unsupportedReason } from '../src/net.js';
import { formatReport } from '../src/report.js';
import { DEFAULTS, runChaos } from '../src/run.js';

const why = (await unsupportedReason()) ?? (fs.existsSync(ETCD_BIN) ? undefined : `no etcd at ${ETCD_BIN}`);
const skip = why !== undefined && process.env['CI'] !== 'true';
const lines: string[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(skip)('the chaos harness: ha topology', { timeout: 200_000 }, () => {
  it('can run here (root, ip netns, tc, etcd)', () => {
    expect(why).toBeUndefined();
  });

  it('kill, partition and suspend of the master twice each, --replication sync: the master moves, nothing acknowledged is lost', async () => {
    const kinds = ['kill', 'partition', 'suspend'] as const;
    // Faults at 3, 11, 19, 27, 35 and 43 s, each held 3 s with 5 s to recover: 51 s of sending.
    const r = await runChaos({
      ...DEFAULTS,
      topology: 'ha',
      faults: [...kinds],
      count: 6,
      durationMs: 51_000,
      rate: 100,
      seed: 7,
      warmupMs: 3000,
      hold: { minMs: 3000, maxMs: 3000 },
      recover: { minMs: 5000, maxMs: 5000 },
      drainMs: 20_000,
      log: (l) => lines.push(l),
    });
    const context = `${formatReport(r)}\n${lines.join('\n')}`;
    console.log(formatReport(r));
    const ran = r.faultLog.filter((f) => f.startMs !== undefined && f.healMs !== undefined && f.error === undefined && f.skipped === undefined);
    expect(
      ran.map((f) => f.kind),
      context,
    ).toEqual([...kinds, ...kinds]);
    // Each fault hit one broker: the master of that moment, as the etcd key named it.
    for (const f of ran) {
      expect(f.hosts).toHaveLength(1);
      expect(r.hosts.find((h) => h.name === f.hosts[0])!.role).toBe('broker');
      expect(r.ha!.failovers.find((x) => x.index === f.index)!.from, context).toBe(f.hosts[0]);
    }
    // The killed masters were restarted on their data directories: a second PID each.
    for (const f of ran.filter((x) => x.kind === 'kill')) expect(r.hosts.find((h) => h.name === f.hosts[0])!.pids.length).toBeGreaterThanOrEqual(2);
    expect(r.ha!.firstEpoch).not.toBeNull();
    expect(r.ha!.lastEpoch!, context).toBeGreaterThan(r.ha!.firstEpoch!);
    expect(r.ha!.masterChanges).toBeGreaterThanOrEqual(1);
    expect(r.routeRefreshMs).toBe(500);
    expect(r.acked).toBeGreaterThan(0);
    expect(r.lost, `lost: ${r.lostSeqs.join(', ')}\n${context}`).toBe(0);
    expect(r.unexpected).toBe(0);
    expect(r.pending).toBe(0);
    expect(r.drained && r.verifyComplete, context).toBe(true);
    expect(r.byKind.map((k) => [k.kind, k.faults])).toEqual(kinds.map((k) => [k, 2]));
    // Cleaned up: no namespace of the run, no process of it.
    expect(r.leftovers).toEqual([]);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`${NS_PREFIX}${r.runId}-`);
    const pids = r.hosts.flatMap((h) => h.pids);
    expect(pids.length).toBeGreaterThanOrEqual(6);
    expect(pids.filter(alive)).toEqual([]);
  });
});
