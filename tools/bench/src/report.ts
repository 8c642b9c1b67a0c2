/**
 * The reporting contract of /docs BENCHMARKS.md: a readable table on stdout and
 * `bench-results/<suite>.json` at the repo root. Every figure is the median of its runs; min and
 * max go to the table; `ratio` > 1 always means Apogee is ahead of the baseline.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize, type Summary } from './stats.js';

export type Better = 'higher' | 'lower';

/** One result as written to the JSON file (exactly the schema of BENCHMARKS.md). */
export interface ResultRow {
  scenario: string;
  metric: string;
  unit: string;
  value: number;
  better: Better;
  baseline: { name: string; value: number } | null;
  ratio: number | null;
}

/** The JSON file. */
export interface SuiteReport {
  suite: string;
  quick: boolean;
  node: string;
  cpus: number;
  startedAt: string;
  results: ResultRow[];
}

/** A goal printed beside a figure: `ratio >= 0.7`, `value <= 1.5`, … */
export interface Target {
  on: 'ratio' | 'value';
  op: '>=' | '<=';
  value: number;
  /** How the goal reads in the table when `on`/`op`/`value` alone would be cryptic. */
  label?: string;
}

/** What a scenario hands to the reporter: the raw samples of each side. */
export interface Measurement {
  scenario: string;
  metric: string;
  unit: string;
  better: Better;
  samples: readonly number[];
  baseline?: { name: string; samples: readonly number[] } | null;
  target?: Target;
}

/** A result with everything the table shows. */
export interface TableRow extends ResultRow {
  summary: Summary;
  baselineSummary: Summary | null;
  target: Target | null;
}

export function ratioOf(better: Better, value: number, baseline: number): number | null {
  const r = better === 'higher' ? value / baseline : baseline / value;
  return Number.isFinite(r) ? r : null;
}

/** Whether a row meets its target; null without one. */
export function targetMet(row: Pick<TableRow, 'value' | 'ratio' | 'target'>): boolean | null {
  const t = row.target;
  if (!t) return null;
  const x = t.on === 'ratio' ? row.ratio : row.value;
  if (x === null) return false;
  return t.op === '>=' ? x >= t.value : x <= t.value;
}

export class Reporter {
  readonly startedAt = new Date();
  private readonly rows: TableRow[] = [];
  private readonly notes: string[] = [];
  private readonly failures: Array<{ scenario: string; error: string }> = [];

  constructor(
    readonly suite: string,
    readonly quick: boolean,
  ) {}

  add(m: Measurement): TableRow {
    const summary = summarize(m.samples);
    const baselineSummary = m.baseline ? summarize(m.baseline.samples) : null;
    const row: TableRow = {
      scenario: m.scenario,
      metric: m.metric,
      unit: m.unit,
      value: summary.median,
      better: m.better,
      baseline: m.baseline && baselineSummary ? { name: m.baseline.name, value: baselineSummary.median } : null,
      ratio: baselineSummary ? ratioOf(m.better, summary.median, baselineSummary.median) : null,
      summary,
      baselineSummary,
      target: m.target ?? null,
    };
    this.rows.push(row);
    return row;
  }

  /** A line printed under the table (achieved batch sizes, caveats, …). */
  note(text: string): void {
    this.notes.push(text);
  }

  fail(scenario: string, error: unknown): void {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.failures.push({ scenario, error: text });
  }

  get failed(): readonly { scenario: string; error: string }[] {
    return this.failures;
  }

  get results(): readonly TableRow[] {
    return this.rows;
  }

  toJson(): SuiteReport {
    return {
      suite: this.suite,
      quick: this.quick,
      node: process.version,
      cpus: os.cpus().length,
      startedAt: this.startedAt.toISOString(),
      results: this.rows.map(({ scenario, metric, unit, value, better, baseline, ratio }) => ({
        scenario,
        metric,
        unit,
        value,
        better,
        baseline,
        ratio,
      })),
    };
  }

  /** Writes `<dir>/<suite>.json` and returns its path. */
  async writeJson(dir: string = defaultResultsDir()): Promise<string> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${this.suite}.json`);
    await writeFile(file, JSON.stringify(this.toJson(), null, 2) + '\n');
    return file;
  }

  formatTable(): string {
    return formatReport(this.suite, this.quick, this.rows, this.notes, this.failures);
  }
}

/** `<repo root>/bench-results`, the repo root being three levels above this file. */
export function defaultResultsDir(): string {
  return fileURLToPath(new URL('../../../bench-results/', import.meta.url));
}

/** Three significant digits, thousands grouped: 412,998 · 41.3 · 0.413. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 100) return Math.round(n).toLocaleString('en-US');
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a === 0) return '0';
  return n.toPrecision(3);
}

function range(s: Summary): string {
  return `${formatNumber(s.min)}–${formatNumber(s.max)}`;
}

function targetText(row: TableRow): string {
  const t = row.target;
  if (!t) return '';
  const goal = t.label ?? `${t.on} ${t.op === '>=' ? '≥' : '≤'} ${t.value}`;
  return `${goal} ${targetMet(row) ? 'met' : 'MISSED'}`;
}

function formatReport(
  suite: string,
  quick: boolean,
  rows: readonly TableRow[],
  notes: readonly string[],
  failures: readonly { scenario: string; error: string }[],
): string {
  const header = ['scenario', 'metric', 'unit', 'apogee', 'min–max', 'runs', 'baseline', 'baseline value', 'min–max', 'ratio', 'target'];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    r.unit,
    formatNumber(r.value),
    range(r.summary),
    String(r.summary.runs),
    r.baseline?.name ?? '—',
    r.baseline ? formatNumber(r.baseline.value) : '',
    r.baselineSummary ? range(r.baselineSummary) : '',
    r.ratio === null ? '' : r.ratio.toFixed(2),
    targetText(r),
  ]);
  const numeric = new Set([3, 4, 5, 7, 8, 9]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  out.push(`suite ${suite}${quick ? ' (quick)' : ''} · node ${process.version} · ${os.cpus().length} cpus · ratio > 1 = Apogee ahead`);
  out.push(line(header));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const cells of body) out.push(line(cells));
  if (notes.length > 0) {
    out.push('');
    for (const n of notes) out.push(`note: ${n}`);
  }
  if (failures.length > 0) {
    out.push('');
    for (const f of failures) out.push(`FAILED ${f.scenario}: ${f.error.split('\n')[0]}`);
  }
  return out.join('\n');
}
