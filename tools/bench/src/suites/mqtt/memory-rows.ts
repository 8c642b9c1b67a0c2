/**
 * The memory rows of every mqtt scenario: each broker's RssAnon and RssFile when idle (started,
 * before the load) and after the load, Apogee against plain aedes and mosquitto, with the targets
 * of memory-target.ts; Apogee's LMDB map (the data part of its RssFile) beside them.
 */
import { addDataMapRow, describePoint, field, readPoint, type MemoryPoint, type PointReadings } from '../../memory-points.js';
import { ANON_RATIO_TARGET, fileTarget } from '../../memory-target.js';
import { median } from '../../stats.js';
import type { BenchContext } from '../../suite.js';
import { withBrokers, type BrokerRef, type Brokers } from './brokers.js';
import { addPeerRows } from './common.js';

/** LMDB's data file, mapped by the store. */
export const LMDB_MAP = '/data.mdb';

/**
 * withBrokers, reporting each broker's memory idle (before fn, the brokers just started) and
 * after fn (the scenario's load done).
 */
export function withMeasuredBrokers<T>(ctx: BenchContext, scenario: string, fn: (b: Brokers) => Promise<T>): Promise<T> {
  return withBrokers(ctx, async (b) => {
    await reportMemoryPoint(ctx, scenario, 'idle', b.all, b.mosquittoMissing);
    const out = await fn(b);
    await reportMemoryPoint(ctx, scenario, 'after', b.all, b.mosquittoMissing);
    return out;
  });
}

/** Reads every broker at `point` and adds its rows to the report. */
async function reportMemoryPoint(
  ctx: BenchContext,
  scenario: string,
  point: MemoryPoint,
  brokers: readonly BrokerRef[],
  missing: Brokers['mosquittoMissing'],
): Promise<void> {
  const r = await readPoint(brokers.map((b) => ({ name: b.name, pid: b.pid, ...(b.name === 'apogee' ? { dataMapSuffix: LMDB_MAP } : {}) })));
  addMemoryRows(ctx, scenario, point, r, missing);
  ctx.report.note(`${scenario} memory ${point}: ${brokers.map((b) => `${b.name} ${describePoint(r, b.name)}`).join('; ')}`);
}

function addMemoryRows(ctx: BenchContext, scenario: string, point: MemoryPoint, r: PointReadings, missing: Brokers['mosquittoMissing']): void {
  // Apogee's anonymous memory against each peer's whole RSS (the peers map no data files).
  addPeerRows(
    ctx,
    { mosquittoMissing: missing },
    {
      scenario,
      metric: `memory ${point}: RssAnon (peer: VmRSS)`,
      unit: 'MiB',
      better: 'lower',
      samples: { apogee: field(r, 'apogee', 'anon'), aedes: field(r, 'aedes', 'rss'), mosquitto: field(r, 'mosquitto', 'rss') },
      targets: { aedes: ANON_RATIO_TARGET },
    },
  );
  // aedes runs the same node binary: its RssFile is the code every node process maps.
  const aedesFile = field(r, 'aedes', 'file');
  addPeerRows(
    ctx,
    { mosquittoMissing: missing },
    {
      scenario,
      metric: `memory ${point}: RssFile`,
      unit: 'MiB',
      better: 'lower',
      samples: { apogee: field(r, 'apogee', 'file'), aedes: aedesFile, mosquitto: field(r, 'mosquitto', 'file') },
      ...(aedesFile.length > 0 ? { targets: { aedes: fileTarget(median(aedesFile)) } } : {}),
    },
  );
  addDataMapRow(ctx, scenario, point, r);
}
