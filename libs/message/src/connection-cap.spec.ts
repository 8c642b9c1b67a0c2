import { describe, expect, it } from 'vitest';
import { ConnectionCap, ConnectionCaps } from './connection-cap.js';
import { RateLimitedWarnings } from './rate-limited-warnings.js';

describe('ConnectionCap', () => {
  it('admits up to the limit, refuses and counts past it, admits again after a release', () => {
    const lines: string[] = [];
    const cap = new ConnectionCap('mqtt', 2, new RateLimitedWarnings({ warn: (_o, m) => lines.push(m) }, { burst: 1 }));
    expect(cap.admit('a')).toBe(true);
    expect(cap.admit('b')).toBe(true);
    expect(cap.admit('c')).toBe(false);
    expect(cap.admit('d')).toBe(false);
    expect(cap.refused).toBe(2);
    expect(cap.open).toBe(2);
    expect(lines).toEqual(["mqtt: connection refused: 2 connections are open, the listener's maximum"]);
    cap.release();
    expect(cap.admit('e')).toBe(true);
  });

  it('0 is no limit; a negative or fractional limit is refused', () => {
    const cap = new ConnectionCap('amqp', 0);
    for (let i = 0; i < 1000; i++) expect(cap.admit(String(i))).toBe(true);
    expect(() => new ConnectionCap('x', -1)).toThrow(/non-negative integer/);
    expect(() => new ConnectionCap('x', 1.5)).toThrow(/non-negative integer/);
  });

  it('ConnectionCaps keeps one count per listener', () => {
    const caps = new ConnectionCaps(1);
    expect(caps.of('tcp').admit('a')).toBe(true);
    expect(caps.of('tls').admit('b')).toBe(true);
    expect(caps.of('tcp').admit('c')).toBe(false);
    expect(caps.refused).toBe(1);
    expect(caps.all().map((c) => c.listener)).toEqual(['tcp', 'tls']);
  });
});
