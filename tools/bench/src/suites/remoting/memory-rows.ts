/**
 * The memory rows of every remoting scenario: the Apogee server's RssAnon, RssFile and LMDB map
 * idle (started, before the load) and after the load. The suite runs no peer broker; RssFile has
 * the file-backed target (the server's idle code mapping, i.e. idle RssFile less its LMDB map,
 * plus the budget).
 */
import { describePoint, field, readPoint, type MemoryPoint, type PointReadings } from '../../memory-points.js';
import { fileTarget } from '../../memory-target.js';
import { median } from '../../stats.js';
import type { BenchContext } from '../../suite.js';
import { type ApogeeServer, type EchoServer, withServers } from './common.js';

const LMDB_MAP = '/data.mdb';

/** withServers, reporting the Apogee server's memory idle (before fn) and after fn. */
export function withMeasuredServers<T>(
  ctx: BenchContext,
  scenario: string,
  flush: 'async' | 'sync',
  opts: { echo: boolean },
  fn: (apogee: ApogeeServer, echo: EchoServer | null) => Promise<T>,
): Promise<T> {
  return withServers(ctx, flush, opts, async (apogee, echo) => {
    const idle = await reportMemoryPoint(ctx, scenario, 'idle', apogee.pid!, null);
    const code = median(field(idle, 'apogee', 'file')) - median(field(idle, 'apogee', 'dataMap'));
    const out = await fn(apogee, echo);
    await reportMemoryPoint(ctx, scenario, 'after', apogee.pid!, code);
    return out;
  });
}

async function reportMemoryPoint(ctx: BenchContext, scenario: string, point: MemoryPoint, pid: number, codeMiB: number | null): Promise<PointReadings> {
  const r = await readPoint([{ name: 'apogee', pid, dataMapSuffix: LMDB_MAP }]);
  const row = (metric: string, samples: number[], target?: ReturnType<typeof fileTarget>): void => {
    ctx.report.add({ scenario, metric: `memory ${point}: ${metric}`, unit: 'MiB', better: 'lower', samples, baseline: null, ...(target ? { target } : {}) });
  };
  row('RssAnon', field(r, 'apogee', 'anon'));
  row('RssFile', field(r, 'apogee', 'file'), codeMiB !== null ? fileTarget(codeMiB) : undefined);
  row(`of RssFile, LMDB map (index/data.mdb) resident`, field(r, 'apogee', 'dataMap'));
  ctx.report.note(`${scenario} memory ${point}: apogee ${describePoint(r, 'apogee')}`);
  return r;
}
