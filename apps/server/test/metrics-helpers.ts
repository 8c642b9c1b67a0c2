import fs from 'node:fs';
import path from 'node:path';

/** A sample of the Prometheus text format: metric name, labels (unescaped) and value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: samples in order, and the declared TYPE of each family. */
export interface Scrape {
  samples: Sample[];
  types: Map<string, string>;
  text: string;
}

/** GET /metrics of a server, parsed. */
export async function scrape(httpAddr: string): Promise<Scrape> {
  const res = await fetch(`http://${httpAddr}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return parseExposition(await res.text());
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/;

/**
 * Parses the text format (0.0.4) strictly enough to catch a broken escape: label values are read
 * character by character, `\\`, `\"` and `\n` being the only escapes; anything else throws.
 */
export function parseExposition(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      types.set(name!, type!);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    samples.push({ name: m[1]!, labels: m[2] ? parseLabels(m[2]) : {}, value: Number(m[3]) });
  }
  return { samples, types, text };
}

function parseLabels(braced: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 1;
  while (braced[i] !== '}') {
    const eq = braced.indexOf('=', i);
    const name = braced.slice(i, eq);
    if (braced[eq + 1] !== '"') throw new Error(`label ${name} is not quoted: ${braced}`);
    let value = '';
    let j = eq + 2;
    for (; braced[j] !== '"'; j++) {
      if (j >= braced.length) throw new Error(`unterminated label value: ${braced}`);
      if (braced[j] === '\\') {
        const e = braced[++j];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new Error(`bad escape \\${e} in ${braced}`);
      } else value += braced[j];
    }
    out[name] = value;
    i = j + 1;
    if (braced[i] === ',') i++;
  }
  if (i !== braced.length - 1) throw new Error(`trailing text after labels: ${braced}`);
  return out;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
export function valueOf(s: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = s.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

/** Buckets (by `le`, in order written), sum and count of a histogram family. */
export function histogramOf(s: Scrape, name: string): { buckets: Array<{ le: string; count: number }>; sum: number; count: number } {
  const buckets = s.samples.filter((x) => x.name === `${name}_bucket`).map((x) => ({ le: x.labels['le']!, count: x.value }));
  return { buckets, sum: valueOf(s, `${name}_sum`) ?? NaN, count: valueOf(s, `${name}_count`) ?? NaN };
}

/**
 * Metric names a PromQL expression refers to: its identifiers once strings, label matchers, range
 * selectors and grouping clauses are taken out, less functions (followed by `(`) and keywords.
 */
export function metricNamesIn(expr: string): string[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const noMatchers = noStrings.replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '');
  const noDurations = noMatchers.replace(/\b\d+(\.\d+)?(ms|s|m|h|d|w|y)?\b/g, '0');
  const noGrouping = noDurations.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const m of noGrouping.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const after = noGrouping.slice(m.index! + word.length).trimStart();
    if (after.startsWith('(')) continue; // a function call
    if (/^(and|or|unless|bool|offset|by|without|inf|nan)$/i.test(word)) continue;
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** promtool on PATH (Debian's `prometheus` package), or null. */
export function findPromtool(): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'promtool');
    if (dir !== '' && fs.existsSync(candidate)) return candidate;
  }
  return null;
}
