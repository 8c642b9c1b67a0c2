import { describe, expect, it } from 'vitest';
import type { AppendedMessage } from './appended-message.js';
import { type QueueReader, QueueReaders } from './queue-readers.js';

const message = { offset: 7 } as AppendedMessage;

function reader(log: string[], name: string, takes: boolean | null): QueueReader {
  const r: QueueReader = { wake: (max) => log.push(`${name} wake ${max}`) };
  if (takes !== null)
    r.take = (m) => {
      log.push(`${name} take ${m.offset}`);
      return takes;
    };
  return r;
}

describe('QueueReaders', () => {
  it('holds one reader without a set and counts live ones', () => {
    const log: string[] = [];
    const rs = new QueueReaders();
    const a = reader(log, 'a', true);
    expect(rs.add(a)).toBe(true);
    expect(rs.add(a)).toBe(false);
    expect(rs.size).toBe(1);
    expect(rs.live).toBe(1);
    rs.wake(3);
    expect(rs.offer(message)).toBe(1);
    expect(log).toEqual(['a wake 3', 'a take 7']);
    expect(rs.delete(a)).toBe(true);
    expect(rs.delete(a)).toBe(false);
    expect(rs.size).toBe(0);
    expect(rs.live).toBe(0);
  });

  it('wakes every reader and offers only to those that take, counting deliveries', () => {
    const log: string[] = [];
    const rs = new QueueReaders();
    const a = reader(log, 'a', true);
    const b = reader(log, 'b', null);
    const c = reader(log, 'c', false);
    for (const r of [a, b, c]) rs.add(r);
    expect(rs.size).toBe(3);
    expect(rs.live).toBe(2);
    rs.wake(9);
    expect(rs.offer(message)).toBe(1);
    expect(log).toEqual(['a wake 9', 'b wake 9', 'c wake 9', 'a take 7', 'c take 7']);
    expect(rs.has(b)).toBe(true);
    rs.delete(b);
    expect(rs.live).toBe(2);
    rs.delete(a);
    rs.delete(c);
    expect(rs.size).toBe(0);
    expect(rs.live).toBe(0);
    rs.add(b);
    expect(rs.size).toBe(1);
    expect(rs.has(b)).toBe(true);
  });

  it('lets a reader leave while it is being woken', () => {
    const log: string[] = [];
    const rs = new QueueReaders();
    const b = reader(log, 'b', null);
    const a: QueueReader = {
      wake: (max) => {
        log.push(`a wake ${max}`);
        rs.delete(a);
        rs.delete(b);
      },
    };
    rs.add(a);
    rs.add(b);
    rs.wake(1);
    expect(log).toEqual(['a wake 1']);
    expect(rs.size).toBe(0);
  });
});
