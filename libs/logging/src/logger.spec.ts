import { describe, expect, it } from 'vitest';
import { parseLogLevel } from './levels.js';
import { createLogger } from './logger.js';

function sink() {
  const lines: string[] = [];
  return { lines, out: { write: (s: string) => lines.push(s) } };
}

describe('createLogger', () => {
  it('writes pino JSON lines (level label, pid) when not on a terminal', () => {
    const s = sink();
    const log = createLogger({ tty: false, out: s.out });
    log.info({ a: 1 }, 'hello');
    const rec = JSON.parse(s.lines[0]!) as Record<string, unknown>;
    expect(rec).toMatchObject({ level: 'info', pid: process.pid, a: 1, msg: 'hello' });
    expect(typeof rec['time']).toBe('number');
  });

  it('writes readable lines on a terminal', () => {
    const s = sink();
    const log = createLogger({ tty: true, out: s.out });
    log.warn({ remote: '127.0.0.1:1', remark: 'no such topic' }, 'broker: request refused');
    expect(s.lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}broker: request refused remote=127\.0\.0\.1:1 remark="no such topic"\n$/);
  });

  it('drops lines below the level; silent drops everything', () => {
    const s = sink();
    const log = createLogger({ level: 'warn', tty: false, out: s.out });
    log.info({}, 'not shown');
    log.warn({}, 'shown');
    expect(s.lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shown']);
    const quiet = sink();
    createLogger({ level: 'silent', tty: true, out: quiet.out }).fatal({}, 'x');
    expect(quiet.lines).toEqual([]);
  });
});

describe('parseLogLevel', () => {
  it('accepts the pino levels in any case and refuses anything else, naming the source', () => {
    expect(parseLogLevel('WARN', '--log-level')).toBe('warn');
    expect(parseLogLevel('silent', 'APOGEE_LOG_LEVEL')).toBe('silent');
    expect(() => parseLogLevel('bogus', '--log-level')).toThrow(
      '--log-level: log level must be one of trace, debug, info, warn, error, fatal, silent; got "bogus"',
    );
  });
});
