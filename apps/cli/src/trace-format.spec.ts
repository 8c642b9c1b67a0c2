import { describe, expect, it } from 'vitest';
import { traceLines } from './trace-format.js';

describe('traceLines', () => {
  it('prints one row per event with who, where and notes', () => {
    const lines = traceLines({
      msgId: 'U1',
      uniqKey: 'U1',
      offsetMsgId: 'O1',
      topic: 'T',
      found: true,
      skippedRecords: 1,
      events: [
        { kind: 'publish', timestamp: 0, source: 'client', group: 'pg', topic: 'T', costMs: 2 },
        {
          kind: 'retry',
          timestamp: 1_700_000_000_000,
          source: 'broker',
          group: 'g',
          protocol: 'remoting',
          topic: 'T',
          queueId: 1,
          queueOffset: 5,
          brokerName: 'broker-a',
          reconsumeTimes: 1,
          detail: '%RETRY%g',
        },
      ],
    });
    expect(lines[0]).toBe('message U1 (offset id O1) of topic T');
    expect(lines[1]).toBe('(1 unreadable trace record(s) skipped)');
    expect(lines[2]).toMatch(/^TIME\s+EVENT\s+SOURCE/);
    expect(lines[3]).toMatch(/^-\s+publish\s+client\s+pg\s+T\s+2 ms$/);
    expect(lines[4]).toContain('2023-11-14T22:13:20.000Z  retry');
    expect(lines[4]).toContain('g / remoting');
    expect(lines[4]).toContain('T:1@5 (broker-a)');
    expect(lines[4]).toContain('reconsume 1, %RETRY%g');
  });

  it('says clearly when nothing is known of an id', () => {
    expect(traceLines({ msgId: 'X', found: false, events: [], skippedRecords: 0 })).toEqual([
      'message X not found',
      'no trace record of this id; for a unique key, pass --topic',
    ]);
  });
});
