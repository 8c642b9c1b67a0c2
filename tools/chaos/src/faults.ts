/**
 * Injecting one scheduled fault into a topology and healing it. Targets come from the topology's
 * answers only (the master of a group now, or a minority of its faultable hosts), so the same code
 * serves every topology.
 */
import type { ChaosNet, PartitionMode } from './net.js';
import { Rng } from './rng.js';
import type { ScheduledFault } from './schedule.js';
import type { ChaosHost, Topology } from './topology.js';

export interface FaultRecord {
  index: number;
  kind: ScheduledFault['kind'];
  target: ScheduledFault['target'];
  /** Hosts the fault hit (for `bridge`: the hosts of both halves). */
  hosts: string[];
  /** `bridge`: the two halves and the host that sees both. */
  bridge?: { left: string[]; right: string[]; middle: string };
  lossPercent?: number;
  /** Workload times: injection began, */
  startMs?: number;
  /** the fault was in force, */
  inForceMs?: number;
  /** the heal began, */
  healMs?: number;
  /** When the hosts were serving again (for `kill`: the restarted process was ready). */
  healedMs?: number;
  holdMs: number;
  /** Why the fault did not run, or what went wrong healing it. */
  skipped?: string;
  error?: string;
}

/** A fault that is in force, and how to heal it. */
export interface ActiveFault {
  record: FaultRecord;
  heal(): Promise<void>;
}

async function pickTargets(f: ScheduledFault, topo: Topology, rng: Rng): Promise<ChaosHost[]> {
  if (f.target === 'master') {
    const group = rng.pick(topo.groups());
    const m = await topo.master(group);
    return m ? [m] : [];
  }
  if (topo.minority) return topo.minority(rng);
  const hosts = topo.faultableHosts();
  const n = Math.max(1, Math.floor((hosts.length - 1) / 2));
  return rng.shuffle(hosts).slice(0, n);
}

/**
 * Injects `f` (now). Returns undefined with the record's `skipped` set when the topology cannot
 * take it (a bridge needs three hosts).
 */
export async function inject(
  f: ScheduledFault,
  topo: Topology,
  net: ChaosNet,
  now: () => number,
  partitionMode: PartitionMode = 'drop',
): Promise<{ record: FaultRecord; active?: ActiveFault }> {
  const rng = new Rng(f.choiceSeed);
  const record: FaultRecord = { index: f.index, kind: f.kind, target: f.target, hosts: [], holdMs: f.holdMs };
  if (f.kind === 'bridge') {
    const hosts = topo.faultableHosts();
    if (hosts.length < 3) {
      record.skipped = `bridge needs at least 3 hosts; topology ${topo.name} has ${hosts.length}`;
      return { record };
    }
    const order = rng.shuffle(hosts);
    const middle = order[0]!;
    const rest = order.slice(1);
    const left = rest.slice(0, Math.ceil(rest.length / 2));
    const right = rest.slice(Math.ceil(rest.length / 2));
    record.bridge = { left: left.map((h) => h.name), right: right.map((h) => h.name), middle: middle.name };
    record.hosts = rest.map((h) => h.name);
    record.startMs = now();
    for (const h of left)
      await net.cutFrom(
        h.net,
        right.map((r) => r.net),
      );
    for (const h of right)
      await net.cutFrom(
        h.net,
        left.map((l) => l.net),
      );
    return {
      record,
      active: {
        record,
        heal: async () => {
          record.healMs = now();
          for (const h of rest) await net.heal(h.net);
          record.healedMs = now();
        },
      },
    };
  }
  const targets = await pickTargets(f, topo, rng);
  if (targets.length === 0) {
    record.skipped = 'no target host';
    return { record };
  }
  record.hosts = targets.map((h) => h.name);
  record.startMs = now();
  let heal: () => Promise<void>;
  switch (f.kind) {
    case 'kill':
      await Promise.all(targets.map((h) => h.proc.kill()));
      heal = async () => {
        await Promise.all(targets.map((h) => topo.restart(h)));
      };
      break;
    case 'suspend':
      for (const h of targets) h.proc.suspend();
      heal = async () => {
        for (const h of targets) h.proc.resume();
      };
      break;
    case 'partition':
      for (const h of targets) await net.partition(h.net, partitionMode);
      heal = async () => {
        for (const h of targets) await net.heal(h.net);
      };
      break;
    case 'loss':
      record.lossPercent = f.lossPercent ?? 10;
      for (const h of targets) await net.loss(h.net, record.lossPercent);
      heal = async () => {
        for (const h of targets) await net.heal(h.net);
      };
      break;
  }
  record.inForceMs = now();
  return {
    record,
    active: {
      record,
      heal: async () => {
        record.healMs = now();
        await heal();
        record.healedMs = now();
      },
    },
  };
}
