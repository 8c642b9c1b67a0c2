import { describe, expect, it } from 'vitest';
import { formatLogLine } from './tty-format.js';

/** 03:04:05.006 local time: the formatter prints local time, so the expected text does not depend on the zone. */
const T = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
const line = (rec: Record<string, unknown>) => `${JSON.stringify({ level: 'info', time: T, pid: 42, hostname: 'h', ...rec })}\n`;

describe('formatLogLine', () => {
  it('writes time, level, message and the fields as key=value in their order', () => {
    expect(formatLogLine(line({ level: 'warn', msg: 'broker: request refused', remote: '127.0.0.1:5000', code: 9999, known: false }))).toBe(
      '03:04:05.006 WARN  broker: request refused remote=127.0.0.1:5000 code=9999 known=false\n',
    );
  });

  it('quotes strings with spaces, quotes, = or nothing in them, and writes objects as JSON', () => {
    const out = formatLogLine(
      line({ msg: 'm', remark: 'request code 9999 not supported', q: 'say "hi"', eq: 'a=b', empty: '', obj: { a: [1, 'x'] }, n: null }),
    );
    expect(out).toBe('03:04:05.006 INFO  m remark="request code 9999 not supported" q="say \\"hi\\"" eq="a=b" empty="" obj={"a":[1,"x"]} n=null\n');
  });

  it('puts a field with line breaks (a stack) on indented lines after the line', () => {
    const out = formatLogLine(line({ level: 'error', msg: 'failed', err: 'Error: boom\n    at f (x.ts:1:1)', code: 1 }));
    expect(out).toBe('03:04:05.006 ERROR failed code=1\n    err: Error: boom\n          at f (x.ts:1:1)\n');
  });

  it('knows every level, by label or by pino number, and colours the level only when asked', () => {
    const labels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((level) => formatLogLine(line({ level, msg: 'x' })).slice(13, 18));
    expect(labels).toEqual(['TRACE', 'DEBUG', 'INFO ', 'WARN ', 'ERROR', 'FATAL']);
    expect(formatLogLine(line({ level: 50, msg: 'x' }))).toBe('03:04:05.006 ERROR x\n');
    expect(formatLogLine(line({ level: 'warn', msg: 'x' }), { colour: true })).toBe('03:04:05.006 \x1b[33mWARN \x1b[0m x\n');
  });

  it('leaves a line that is not a JSON object as it is', () => {
    expect(formatLogLine('plain text\n')).toBe('plain text\n');
    expect(formatLogLine('[1,2]\n')).toBe('[1,2]\n');
    expect(formatLogLine('{"msg":"no time or level"}\n')).toBe('INFO  no time or level\n');
  });
});
