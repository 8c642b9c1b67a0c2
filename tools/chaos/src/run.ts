/**
 * One chaos run: sweep what crashed runs left, build the network and the topology, start the
 * workload, play the fault schedule, stop producing, heal, drain, verify, check — and, whatever
 * happened, stop every process and remove the namespaces. Every wait is bounded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CheckResult, check } from './checker.js';
import { type FailoverFigures, type KindSummary, failoverFigures, summarizeByKind } from './failover.js';
import { type FaultRecord, type ActiveFault, inject } from './faults.js';
import { ChaosNet, type LossMethod, type PartitionMode, newRunId, sweepStale, unsupportedReason } from './net.js';
import { type FaultKind, type Range, type ScheduledFault, type TargetMode, buildSchedule } from './schedule.js';
import { sleep } from './sh.js';
import { TOPOLOGIES } from './topologies/index.js';
import type { MasterSample, Topology } from './topology.js';
import { MqttWorkload } from './mqtt-workload.js';
import { type SendRecord, Workload } from './workload.js';

export interface ChaosOptions {
  topology: string;
  faults: FaultKind[];
  durationMs: number;
  /** Sends per second. */
  rate: number;
  seed: number;
  warmupMs: number;
  hold: Range;
  recover: Range;
  lossPercent: { min: number; max: number };
  target: TargetMode | 'mixed';
  partitionMode: PartitionMode;
  flush: 'sync' | 'async';
  sendTimeoutMs: number;
  retryTimes: number;
  messageSize: number;
  queuesPerGroup: number;
  /** Bound of the drain and of the verification read, each. */
  drainMs: number;
  keepData: boolean;
  /** Publishes per second of the MQTT QoS 1 workload alongside; 0: none. */
  mqttRate: number;
  /** At most this many faults (0: as many as fit in the duration). */
  count: number;
  /** The clients' route refresh; undefined: the topology's (`ha`: 500 ms), else 5 s. */
  routeRefreshMs?: number;
  /** Brokers per group of the `ha` topology (2 or 3). */
  brokers: number;
  /** The `ha` brokers' `--replication`. */
  replication: 'sync' | 'async';
  /** The `ha` brokers' `--min-in-sync-replicas` (undefined: the server's default). */
  minInSyncReplicas?: number;
  log: (line: string) => void;
  /** Aborting it ends the run early (faults healed, cleanup as usual). */
  signal?: AbortSignal;
  /** Called with the network once it exists (for a signal handler's synchronous cleanup). */
  onNet?: (net: ChaosNet) => void;
}

export const DEFAULTS: Omit<ChaosOptions, 'topology' | 'faults' | 'log'> = {
  durationMs: 60_000,
  rate: 200,
  seed: 1,
  warmupMs: 5000,
  hold: { minMs: 5000, maxMs: 10_000 },
  recover: { minMs: 5000, maxMs: 10_000 },
  lossPercent: { min: 10, max: 30 },
  target: 'master',
  partitionMode: 'drop',
  flush: 'sync',
  sendTimeoutMs: 3000,
  retryTimes: 2,
  messageSize: 128,
  queuesPerGroup: 4,
  drainMs: 30_000,
  keepData: false,
  mqttRate: 0,
  count: 0,
  brokers: 2,
  replication: 'sync',
};

export interface ChaosReport extends CheckResult {
  runId: string;
  topology: string;
  seed: number;
  faultKinds: FaultKind[];
  durationSec: number;
  rate: number;
  flush: 'sync' | 'async';
  lossMethod: LossMethod;
  partitionMode: PartitionMode;
  startedAt: string;
  /** Every scheduled fault as it ran (or why it did not). */
  faultLog: FaultRecord[];
  /** The consumer caught up to the queues' max offsets within the drain bound. */
  drained: boolean;
  /** The verification read finished every queue. */
  verifyComplete: boolean;
  throttled: number;
  offsetResets: number;
  /** Hosts whose process had to be restarted after the schedule (a restart that failed during it). */
  restartedAfter: string[];
  /** The topology's hosts, with the PID of every process started on each. */
  hosts: Array<{ name: string; role: string; group?: string; ip: string; ns: string; pids: number[] }>;
  /** Namespaces or links of the run still present after cleanup (should be empty). */
  leftovers: string[];
  /** Where the process logs and data were (removed unless --keep-data). */
  dir: string;
  aborted: boolean;
  /** The MQTT workload's figures, when it ran (`--mqtt`). */
  mqtt?: CheckResult & { rate: number; drained: boolean };
  /** The clients' route refresh (ms). */
  routeRefreshMs: number;
  /** Wall-clock time (epoch ms) of the workload's time 0, to line its times up with the process logs' `time`. */
  clockZeroEpochMs: number;
  /** Unavailable seconds per fault kind. */
  byKind: KindSummary[];
  /** Failed sends by reason (the status, or the error with addresses and numbers blanked), most first. */
  failureReasons: Array<{ reason: string; count: number }>;
  /** Topologies with a controller (`ha`): brokers per group, replication, who was master when. */
  ha?: {
    brokers: number;
    replication: 'sync' | 'async';
    minInSyncReplicas?: number;
    masters: MasterSample[];
    /** The epochs seen, first and last (per run, over all groups). */
    firstEpoch: number | null;
    lastEpoch: number | null;
    /** Master changes seen (a new epoch with a master). */
    masterChanges: number;
    failovers: FailoverFigures[];
  };
}

/** Failed sends grouped by reason: addresses, numbers and ids blanked so that alike errors count together. */
export function failureReasons(sends: readonly SendRecord[]): Array<{ reason: string; count: number }> {
  const by = new Map<string, number>();
  for (const s of sends) {
    if (s.outcome !== 'failed' && s.outcome !== 'timeout') continue;
    const reason = `${s.outcome}: ${(s.error ?? '?')
      .replace(/\d+\.\d+\.\d+\.\d+(:\d+)?/g, 'ADDR')
      .replace(/\d+/g, 'N')
      .slice(0, 120)}`;
    by.set(reason, (by.get(reason) ?? 0) + 1);
  }
  return [...by].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
}

/** Runs the schedule against the topology while the producer runs; returns the fault records. */
async function playSchedule(
  schedule: readonly ScheduledFault[],
  topo: Topology,
  net: ChaosNet,
  w: Workload,
  endMs: number,
  aborted: () => boolean,
  log: (l: string) => void,
  partitionMode: PartitionMode,
): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (const f of schedule) {
    while (!aborted() && w.now() < f.atMs) await sleep(Math.min(100, f.atMs - w.now()));
    if (aborted() || w.now() >= endMs) break;
    let injected: { record: FaultRecord; active?: ActiveFault };
    try {
      injected = await inject(f, topo, net, () => w.now(), partitionMode);
    } catch (err) {
      records.push({ index: f.index, kind: f.kind, target: f.target, hosts: [], holdMs: f.holdMs, error: `inject: ${(err as Error).message}` });
      log(`fault ${f.index} ${f.kind}: inject failed: ${(err as Error).message}`);
      continue;
    }
    records.push(injected.record);
    const r = injected.record;
    if (!injected.active) {
      log(`fault ${f.index} ${f.kind}: skipped (${r.skipped})`);
      continue;
    }
    log(
      `t=${(w.now() / 1000).toFixed(1)}s fault ${f.index} ${f.kind} on ${r.hosts.join(',')}${r.lossPercent !== undefined ? ` ${r.lossPercent}%` : ''}${r.bridge ? ` (${r.bridge.left.join(',')} | ${r.bridge.middle} | ${r.bridge.right.join(',')})` : ''}, hold ${f.holdMs} ms`,
    );
    const healAt = f.atMs + f.holdMs;
    while (!aborted() && w.now() < healAt) await sleep(Math.min(100, healAt - w.now()));
    try {
      await injected.active.heal();
      log(`t=${(w.now() / 1000).toFixed(1)}s healed ${f.kind} on ${r.hosts.join(',')} (serving after ${((r.healedMs! - r.healMs!) / 1000).toFixed(1)} s)`);
    } catch (err) {
      r.error = `heal: ${(err as Error).message.slice(0, 500)}`;
      log(`fault ${f.index} ${f.kind}: heal failed: ${r.error}`);
    }
  }
  return records;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const make = TOPOLOGIES[o.topology];
  if (!make) throw new Error(`unknown topology ${o.topology}; topologies: ${Object.keys(TOPOLOGIES).join(', ')}`);
  const why = await unsupportedReason();
  if (why) throw new Error(`the chaos harness cannot run here: ${why}`);
  const swept = await sweepStale();
  if (swept.length > 0) o.log(`swept what crashed runs left: ${swept.join(', ')}`);

  const rid = newRunId();
  const startedAt = new Date().toISOString();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `apogee-chaos-${rid}-`));
  const aborted = (): boolean => o.signal?.aborted === true;
  let net: ChaosNet | undefined;
  let topo: Topology | undefined;
  let w: Workload | undefined;
  let mw: MqttWorkload | undefined;
  let report: ChaosReport | undefined;
  try {
    net = await ChaosNet.create(rid);
    o.onNet?.(net);
    o.log(`run ${rid}: network ${net.subnet}.0/24 (bridge namespace ${net.bridgeNs}, loss by ${net.lossMethod}), logs in ${dir}`);
    topo = make({
      net,
      dir,
      flush: o.flush,
      brokers: o.brokers,
      replication: o.replication,
      ...(o.minInSyncReplicas === undefined ? {} : { minInSyncReplicas: o.minInSyncReplicas }),
      log: o.log,
    });
    await topo.setup();
    o.log(`topology ${topo.name}: ${topo.hosts.map((h) => `${h.name}(${h.role}${h.group ? ` ${h.group}` : ''}) ${h.net.ip} pid ${h.proc.pid}`).join('; ')}`);
    const topic = `ChaosT_${rid}`;
    await topo.createTopic(topic, o.queuesPerGroup);
    const routeRefreshMs = o.routeRefreshMs ?? topo.routeRefreshMs ?? 5000;
    w = new Workload({
      nameServer: topo.nameServer(),
      topic,
      rid,
      rate: o.rate,
      sendTimeoutMs: o.sendTimeoutMs,
      retryTimes: o.retryTimes,
      messageSize: o.messageSize,
      routeRefreshMs,
      log: o.log,
    });
    await w.start();
    const clock = w;
    topo.watchMasters?.(() => clock.now());
    if (o.mqttRate > 0) {
      const url = topo.mqttUrl?.();
      if (url === undefined) o.log(`topology ${topo.name} runs no MQTT endpoint: no MQTT workload`);
      else {
        mw = new MqttWorkload({ url, rid, rate: o.mqttRate, timeoutMs: 10_000, messageSize: o.messageSize, now: () => clock.now() });
        await mw.start();
        o.log(`MQTT QoS 1 workload at ${o.mqttRate}/s on ${url}`);
      }
    }
    const schedule = buildSchedule({
      kinds: o.faults,
      seed: o.seed,
      durationMs: o.durationMs,
      warmupMs: o.warmupMs,
      hold: o.hold,
      recover: o.recover,
      lossPercent: o.lossPercent,
      target: o.target,
      count: o.count,
    });
    o.log(
      `schedule (seed ${o.seed}): ${schedule.map((f) => `${f.kind}@${(f.atMs / 1000).toFixed(1)}s/${(f.holdMs / 1000).toFixed(1)}s`).join(' ') || 'no fault fits the duration'}`,
    );
    const endMs = w.now() + o.durationMs;
    const producing = Promise.all([w.produce(endMs, aborted), mw?.produce(endMs, aborted)]);
    const faultLog = await playSchedule(schedule, topo, net, w, endMs, aborted, o.log, o.partitionMode);
    await producing;
    const producedUntil = w.now();
    await Promise.all([w.settle(), mw?.settle()]);
    // Anything a failed heal left down is brought back before the drain.
    const restartedAfter: string[] = [];
    for (const h of topo.hosts) {
      if (h.proc.state === 'suspended') h.proc.resume();
      if (h.proc.state === 'stopped') {
        restartedAfter.push(h.name);
        await topo.restart(h).catch((err: unknown) => o.log(`restart of ${h.name} after the schedule failed: ${(err as Error).message}`));
      }
      await net.heal(h.net);
    }
    o.log(`produced for ${(producedUntil / 1000).toFixed(1)} s: ${w.sends.length} sends; draining (at most ${o.drainMs / 1000} s)`);
    const drained = await w.drain(o.drainMs);
    const verified = await w.verify(o.drainMs);
    const faultWindows = faultLog.flatMap((r) =>
      r.startMs === undefined ? [] : [{ index: r.index, kind: r.kind, startMs: r.startMs, ...(r.healMs === undefined ? {} : { healMs: r.healMs }) }],
    );
    const mqttDrained = mw ? await mw.drain(o.drainMs) : false;
    const masters = (await topo.stopWatchingMasters?.()) ?? [];
    const result = check({
      rid,
      sends: w.sends,
      live: w.receipts,
      verified: verified.receipts,
      faults: faultLog.flatMap((r) =>
        r.startMs === undefined ? [] : [{ index: r.index, kind: r.kind, startMs: r.startMs, ...(r.healMs === undefined ? {} : { healMs: r.healMs }) }],
      ),
      endMs: producedUntil,
    });
    const ackTimes = w.sends.flatMap((s) => (s.outcome === 'acked' ? [s.endMs] : [])).sort((a, b) => a - b);
    const starts = result.faults.map((f) => f.startMs);
    const failovers = topo.watchMasters
      ? failoverFigures(result.faults, masters, ackTimes, (index) => {
          const i = result.faults.findIndex((f) => f.index === index);
          return starts[i + 1] ?? producedUntil;
        })
      : [];
    report = {
      runId: rid,
      topology: o.topology,
      seed: o.seed,
      faultKinds: o.faults,
      durationSec: o.durationMs / 1000,
      rate: o.rate,
      flush: o.flush,
      lossMethod: net.lossMethod,
      partitionMode: o.partitionMode,
      startedAt,
      ...result,
      faultLog,
      drained,
      verifyComplete: verified.complete,
      throttled: w.throttled,
      offsetResets: w.offsetResets,
      restartedAfter,
      hosts: topo.hosts.map((h) => ({
        name: h.name,
        role: h.role,
        ...(h.group === undefined ? {} : { group: h.group }),
        ip: h.net.ip,
        ns: h.net.ns,
        pids: h.proc.pids,
      })),
      leftovers: [],
      dir,
      aborted: aborted(),
      routeRefreshMs,
      clockZeroEpochMs: Math.round(Date.now() - w.now()),
      byKind: summarizeByKind(result.faults, failovers),
      failureReasons: failureReasons(w.sends),
    };
    if (topo.watchMasters) {
      const epochs = masters.flatMap((m) => (m.host !== null && m.epoch !== undefined ? [m.epoch] : []));
      const changes = epochs.filter((e, i) => i > 0 && e !== epochs[i - 1]).length;
      report.ha = {
        brokers: o.brokers,
        replication: o.replication,
        ...(o.minInSyncReplicas === undefined ? {} : { minInSyncReplicas: o.minInSyncReplicas }),
        masters,
        firstEpoch: epochs[0] ?? null,
        lastEpoch: epochs.at(-1) ?? null,
        masterChanges: changes,
        failovers,
      };
    }
    if (mw)
      report.mqtt = {
        ...check({ rid, sends: mw.sends, live: mw.receipts, verified: [], faults: faultWindows, endMs: producedUntil }),
        rate: o.mqttRate,
        drained: mqttDrained,
      };
    return report;
  } finally {
    await w?.close().catch(() => {});
    await mw?.close().catch(() => {});
    await topo?.teardown().catch((err: unknown) => o.log(`teardown: ${(err as Error).message}`));
    const leftovers = net ? await net.destroy().catch((err: unknown) => [`destroy failed: ${(err as Error).message}`]) : [];
    if (leftovers.length > 0) o.log(`left after cleanup: ${leftovers.join(', ')}`);
    // The returned report is this object: the cleanup's outcome lands in it before the caller sees it.
    if (report) report.leftovers = leftovers;
    if (report && !o.keepData) fs.rmSync(dir, { recursive: true, force: true });
    else o.log(`process logs and data kept in ${dir}`);
  }
}
