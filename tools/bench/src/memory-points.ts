/**
 * Memory of the brokers under test at fixed points of a scenario — idle (started, before any
 * load) and after the load — as RssAnon / RssFile / RssShmem of each broker process tree. A point
 * is a few readings a short while apart, so one reading caught in a GC or a page-in does not make
 * the figure.
 */
import { readMappedRss, readTreeMemory, type ProcMemory } from './proc-memory.js';
import type { BenchContext } from './suite.js';
import { sleep } from './runner.js';

/** A process to measure, by the name the suite reports it under. */
export interface MeasuredProcess {
  name: string;
  pid: number;
  /** Path suffix of the data files it maps (e.g. `/data.mdb`): their resident part is read too. */
  dataMapSuffix?: string;
}

/** One reading: the process tree's memory and the resident bytes of its data-file maps. */
export interface Reading extends ProcMemory {
  /** Resident bytes of the mapped data files (part of `file`); 0 without a dataMapSuffix. */
  dataMap: number;
}

/** When in a scenario the brokers are read. */
export type MemoryPoint = 'idle' | 'after';

/** Readings of each process at one point (a process that could not be read has none). */
export type PointReadings = Record<string, Reading[]>;

export interface PointOptions {
  /** Readings per process. Default 3. */
  readings?: number;
  /** Pause before the first and between readings, ms. Default 250. */
  gapMs?: number;
}

/** Reads every process `readings` times, `gapMs` apart (all processes in each round). */
export async function readPoint(procs: readonly MeasuredProcess[], opts: PointOptions = {}): Promise<PointReadings> {
  const readings = opts.readings ?? 3;
  const gapMs = opts.gapMs ?? 250;
  const out: PointReadings = {};
  for (const p of procs) out[p.name] = [];
  for (let i = 0; i < readings; i++) {
    await sleep(gapMs);
    for (const p of procs) {
      try {
        const mem = await readTreeMemory(p.pid);
        out[p.name]!.push({ ...mem, dataMap: p.dataMapSuffix ? await readMappedRss(p.pid, p.dataMapSuffix) : 0 });
      } catch {
        // the process is gone: its figure is missing, not zero
      }
    }
  }
  return out;
}

/** One field of every reading of a process, in MiB. */
export function field(readings: PointReadings, name: string, key: keyof Reading): number[] {
  return (readings[name] ?? []).map((m) => m[key] / (1024 * 1024));
}

/** "anon 61 · file 44 · shmem 0 MiB" from the medians of a process's readings at a point. */
export function describePoint(readings: PointReadings, name: string): string {
  const rs = readings[name] ?? [];
  if (rs.length === 0) return 'not read';
  const med = (k: keyof Reading): string => {
    const v = rs.map((m) => m[k]).sort((a, b) => a - b)[Math.floor(rs.length / 2)]!;
    return (v / (1024 * 1024)).toFixed(0);
  };
  const map = rs.some((m) => m.dataMap > 0) ? ` (data maps ${med('dataMap')})` : '';
  return `anon ${med('anon')} · file ${med('file')}${map}${rs.some((m) => m.shmem > 0) ? ` · shmem ${med('shmem')}` : ''} MiB`;
}

/** The row every suite reports beside Apogee's RssFile: the resident part of its LMDB map. */
export function addDataMapRow(ctx: BenchContext, scenario: string, point: MemoryPoint, readings: PointReadings): void {
  ctx.report.add({
    scenario,
    metric: `memory ${point}: of Apogee's RssFile, LMDB map (index/data.mdb) resident`,
    unit: 'MiB',
    better: 'lower',
    samples: field(readings, 'apogee', 'dataMap'),
    baseline: null,
  });
}
