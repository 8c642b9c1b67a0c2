/**
 * The memory targets of the brief: Apogee's anonymous memory ≤ 2 × aedes' RSS at every point, and
 * its file-backed memory within the mapped code every node process has (aedes' RssFile, same
 * binary) plus the configured memory budget (the default server's: DEFAULT_MEMORY_BUDGET_BYTES).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MEMORY_BUDGET_BYTES } from '@apogee/store';
import { defaultResultsDir, type SuiteReport, type Target } from './report.js';
import { median } from './stats.js';

/** The budget of the server the suites start (they pass no --memory-budget), MiB. */
export const BUDGET_MIB = DEFAULT_MEMORY_BUDGET_BYTES / (1024 * 1024);

/** Against aedes' VmRSS as the baseline: aedes RSS / Apogee RssAnon ≥ 0.5. */
export const ANON_RATIO_TARGET: Target = { on: 'ratio', op: '>=', value: 0.5, label: 'anon ≤ 2 × aedes RSS' };

/** Against a known aedes RSS (MiB) when aedes does not run beside Apogee. */
export function anonValueTarget(aedesRssMiB: number): Target {
  const limit = 2 * aedesRssMiB;
  return { on: 'value', op: '<=', value: limit, label: `anon ≤ 2 × aedes RSS (${limit.toFixed(0)} MiB)` };
}

/** RssFile ≤ the node code (MiB, aedes' RssFile in the same run) + the budget. */
export function fileTarget(codeMiB: number): Target {
  const limit = codeMiB + BUDGET_MIB;
  return { on: 'value', op: '<=', value: limit, label: `file ≤ code + ${BUDGET_MIB} MiB budget (${limit.toFixed(0)} MiB)` };
}

/** Metric name of the rows holding aedes' VmRSS "after" each mqtt scenario. */
export const AEDES_AFTER_METRIC = 'memory after: RssAnon (peer: VmRSS) — vs aedes';

/**
 * aedes' RSS after load in the latest mqtt suite run (bench-results/mqtt.json): the median over
 * its scenarios of the baseline of AEDES_AFTER_METRIC, with when it was measured; null without it.
 */
export async function aedesRssFromMqttRun(dir: string = defaultResultsDir()): Promise<{ mib: number; startedAt: string } | null> {
  let report: SuiteReport;
  try {
    report = JSON.parse(await readFile(path.join(dir, 'mqtt.json'), 'utf8')) as SuiteReport;
  } catch {
    return null;
  }
  const values = report.results.filter((r) => r.metric === AEDES_AFTER_METRIC && r.baseline).map((r) => r.baseline!.value);
  return values.length > 0 ? { mib: median(values), startedAt: report.startedAt } : null;
}
