import type { HistogramSnapshot } from '@apogee/message';

/** Label names to values of one sample, in the order written. */
export type Labels = Readonly<Record<string, string>>;

export type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * A label value as the Prometheus text format (0.0.4) wants it between double quotes: backslash,
 * double quote and line feed escaped as `\\`, `\"` and `\n`; everything else as it is (UTF-8).
 */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** HELP text: backslash and line feed escaped (the format's rule for docstrings). */
function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value: integers as they are, NaN and infinities as the format spells them. */
export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isNaN(v) ? 'NaN' : String(v);
}

function labelText(labels: Labels | undefined, extra?: string): string {
  const parts: string[] = [];
  if (labels) for (const k in labels) parts.push(`${k}="${escapeLabelValue(labels[k]!)}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/**
 * Writes the Prometheus text exposition format, one family at a time: `family` writes HELP and
 * TYPE, then its samples follow. No I/O; `text()` is what GET /metrics answers.
 */
export class Exposition {
  private readonly lines: string[] = [];

  /** Starts a family: its HELP and TYPE lines. */
  family(name: string, type: MetricType, help: string): this {
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** One sample of the current family. */
  sample(name: string, value: number, labels?: Labels): this {
    this.lines.push(`${name}${labelText(labels)} ${formatValue(value)}`);
    return this;
  }

  /** A family of one unlabelled sample. */
  single(name: string, type: 'counter' | 'gauge', help: string, value: number): this {
    return this.family(name, type, help).sample(name, value);
  }

  /**
   * A classic histogram: cumulative `_bucket{le=…}` for every bound and +Inf, `_sum` and `_count`.
   * Writes the family header too.
   */
  histogram(name: string, help: string, s: HistogramSnapshot, labels?: Labels): this {
    this.family(name, 'histogram', help);
    for (let i = 0; i < s.bounds.length; i++) this.lines.push(`${name}_bucket${labelText(labels, `le="${formatValue(s.bounds[i]!)}"`)} ${s.cumulative[i]!}`);
    this.lines.push(`${name}_bucket${labelText(labels, 'le="+Inf"')} ${s.count}`);
    this.lines.push(`${name}_sum${labelText(labels)} ${formatValue(s.sum)}`, `${name}_count${labelText(labels)} ${s.count}`);
    return this;
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
