/** What a benchmark suite is, and what it gets to run with. */
import type { Reporter } from './report.js';
import type { TempRoot } from './tmp.js';

export interface BenchContext {
  /** The short version: the whole suite in under a minute. */
  readonly quick: boolean;
  readonly report: Reporter;
  /** Temp directories, all under one root in os.tmpdir() (the disk every ceiling is measured on). */
  readonly tmp: TempRoot;
  /** Progress line on stderr (stdout carries the table only). */
  log(message: string): void;
}

/** One measured situation of a suite; it adds its rows to ctx.report. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<void>;
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  readonly scenarios: readonly Scenario[];
}
