/**
 * One pino JSON line as a line a person reads on a terminal:
 *
 *   12:34:56.789 WARN  broker: request refused remote=127.0.0.1:50122 request=UNKNOWN(9999) remark="request code 9999 not supported"
 *
 * Local time, level, message, then the fields as key=value in the order pino wrote them (strings
 * quoted only when they hold a space, a quote or `=`; objects as JSON). A string field with line
 * breaks (a stack) follows on indented lines. Only runs when stdout is a terminal, so it favours
 * plain string building over anything clever; it still allocates no arrays per line.
 */

/** Keys every line carries that the layout shows itself (or that a terminal reader does not need). */
const SKIPPED = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

const LABELS: Readonly<Record<string, string>> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO ',
  warn: 'WARN ',
  error: 'ERROR',
  fatal: 'FATAL',
};
/** pino's numeric levels, for lines written without the label formatter. */
const BY_NUMBER: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** ANSI colours of the level: grey, green, yellow, red, magenta. */
const COLOURS: Readonly<Record<string, string>> = {
  trace: '\x1b[90m',
  debug: '\x1b[90m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[35m',
};
const RESET = '\x1b[0m';
const BARE = /^[^\s"=\\]+$/;

export interface TtyFormatOptions {
  /** Colour the level (ANSI). Default false. */
  colour?: boolean;
}

/** The terminal form of one pino line (with its trailing newline); a line that is not a JSON object comes back as is. */
export function formatLogLine(line: string, opts: TtyFormatOptions = {}): string {
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    rec = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = levelName(rec['level']);
  const label = LABELS[level] ?? level.toUpperCase().padEnd(5);
  let out = typeof rec['time'] === 'number' ? `${clock(rec['time'])} ` : '';
  out += opts.colour && COLOURS[level] ? `${COLOURS[level]}${label}${RESET}` : label;
  if (typeof rec['msg'] === 'string') out += ` ${rec['msg']}`;
  let blocks = '';
  for (const key in rec) {
    if (SKIPPED.has(key)) continue;
    const v = rec[key];
    if (typeof v === 'string' && v.includes('\n')) {
      blocks += `\n    ${key}: ${v.replace(/\n/g, '\n      ')}`;
      continue;
    }
    out += ` ${key}=${valueText(v)}`;
  }
  return `${out}${blocks}\n`;
}

function levelName(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return BY_NUMBER[v] ?? String(v);
  return 'info';
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return v !== '' && BARE.test(v) ? v : JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v);
}

/** HH:MM:SS.mmm in local time. */
function clock(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
