/**
 * Short chaos runs through the real harness (root, `ip netns`, `tc`): the `single` topology under
 * each single-host fault once with --flush sync — no acknowledged message may be lost across the
 * SIGKILLs — and the `cluster` topology with a kill of one group and a bridge partition, where
 * sends go on to the other group during the kill. Afterwards no namespace of the run and none of
 * its processes may be left. Skipped when not root or without `ip netns`, except under CI=true,
 * where that is a failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { type ChaosOptions, type ChaosReport, DEFAULTS, runChaos } from '../src/run.js';
import { ChaosNet, NS_PREFIX, newRunId, sweepStale, unsupportedReason } from '../src/net.js';

const why = await unsupportedReason();
const skip = why !== undefined && process.env['CI'] !== 'true';
const lines: string[] = [];

function opts(over: Partial<ChaosOptions>): ChaosOptions {
  return {
    ...DEFAULTS,
    topology: 'single',
    faults: ['kill'],
    rate: 100,
    seed: 11,
    warmupMs: 2000,
    hold: { minMs: 2000, maxMs: 2000 },
    recover: { minMs: 2500, maxMs: 2500 },
    drainMs: 15_000,
    log: (l) => lines.push(l),
    ...over,
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function expectCleanedUp(r: ChaosReport): void {
  expect(r.leftovers).toEqual([]);
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  expect(namespaces).not.toContain(`${NS_PREFIX}${r.runId}-`);
  const pids = r.hosts.flatMap((h) => h.pids);
  expect(pids.length).toBeGreaterThan(0);
  expect(pids.filter(alive)).toEqual([]);
}

describe.skipIf(skip)('the chaos harness', { timeout: 150_000 }, () => {
  it('can run here (root, ip netns, tc)', () => {
    expect(why).toBeUndefined();
  });

  it('sweeps the namespaces of a run whose owner is gone, and leaves a live run alone', async () => {
    const live = await ChaosNet.create();
    const stale = `${NS_PREFIX}${newRunId()}-stale`;
    try {
      execFileSync('ip', ['netns', 'add', stale]);
      const removed = await sweepStale();
      expect(removed).toContain(stale);
      expect(removed).not.toContain(live.bridgeNs);
      expect(await live.leftovers()).toEqual([live.bridgeNs, live.clientLink]);
    } finally {
      spawnSync('ip', ['netns', 'del', stale]);
      expect(await live.destroy()).toEqual([]);
    }
  });

  it('single: kill, suspend, partition and loss once each, with --flush sync: nothing acknowledged is lost (remoting and MQTT QoS 1)', async () => {
    const faults = ['kill', 'suspend', 'partition', 'loss'] as const;
    // Faults at 2, 6.5, 11 and 15.5 s, each held 2 s; a fifth would end its hold at 22 s.
    const r = await runChaos(opts({ topology: 'single', faults: [...faults], durationMs: 21_000, mqttRate: 20 }));
    const ran = r.faultLog.filter((f) => f.startMs !== undefined && f.healMs !== undefined && f.error === undefined);
    expect(ran.map((f) => f.kind)).toEqual(faults);
    expect(r.faultLog.find((f) => f.kind === 'kill')!.hosts).toEqual(['server']);
    // The server was really killed and restarted: a second PID.
    expect(r.hosts[0]!.pids.length).toBe(2);
    expect(r.acked).toBeGreaterThan(0);
    expect(r.lost, `lost: ${r.lostSeqs.join(', ')}\n${lines.join('\n')}`).toBe(0);
    expect(r.unexpected).toBe(0);
    expect(r.pending).toBe(0);
    expect(r.drained && r.verifyComplete).toBe(true);
    expect(r.faults.map((f) => f.kind)).toEqual(faults);
    // MQTT: every PUBACKed message delivered to the persistent session, across the SIGKILL too.
    expect(r.mqtt!.acked).toBeGreaterThan(0);
    expect(r.mqtt!.lost, `MQTT lost: ${r.mqtt!.lostSeqs.join(', ')}`).toBe(0);
    expect(r.mqtt!.unexpected).toBe(0);
    expectCleanedUp(r);
  });

  it('cluster: while one group is killed sends go on to the other; a bridge partition runs on four hosts', async () => {
    // Faults at 2 and 6.5 s, each held 2 s; a third would end its hold at 13 s.
    const r = await runChaos(opts({ topology: 'cluster', faults: ['kill', 'bridge'], durationMs: 12_500 }));
    const kill = r.faultLog.find((f) => f.kind === 'kill')!;
    expect(kill.hosts).toHaveLength(1);
    const killed = r.hosts.find((h) => h.name === kill.hosts[0])!;
    expect(killed.role).toBe('broker');
    const other = r.hosts.find((h) => h.role === 'broker' && h.name !== killed.name)!;
    const figures = r.faults.find((f) => f.kind === 'kill')!;
    expect(figures.ackedDuring).toBeGreaterThan(0);
    expect(figures.ackedByGroupDuring[other.group!]).toBeGreaterThan(0);
    expect(figures.unavailableSec).toBeGreaterThanOrEqual(0);
    const bridge = r.faultLog.find((f) => f.kind === 'bridge')!;
    expect(bridge.skipped).toBeUndefined();
    expect(bridge.bridge!.left.length + bridge.bridge!.right.length + 1).toBe(4);
    expect(r.lost, `lost: ${r.lostSeqs.join(', ')}\n${lines.join('\n')}`).toBe(0);
    expect(r.unexpected).toBe(0);
    expectCleanedUp(r);
  });
});
