import type { TraceRecord } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../message.js';
import { assembleTimeline } from './timeline.js';

const msg = (over: Partial<ReceivedMessage>): ReceivedMessage => ({
  topic: 'T',
  storeTopic: 'T',
  tags: undefined,
  keys: [],
  properties: {},
  body: Buffer.alloc(0),
  msgId: 'U1',
  offsetMsgId: 'O1',
  queueId: 0,
  queueOffset: 5,
  commitLogOffset: 100,
  storeTimestamp: 1000,
  bornTimestamp: 999,
  reconsumeTimes: 0,
  flag: 0,
  sysFlag: 0,
  bornHost: '127.0.0.1:1',
  storeHost: '127.0.0.1:10911',
  brokerName: 'broker-a',
  ...over,
});

const original = msg({});
const copy = msg({ storeTopic: '%RETRY%g', queueOffset: 0, reconsumeTimes: 1, storeTimestamp: 2000, offsetMsgId: 'O2' });
const retry: TraceRecord = {
  type: 'Retry',
  timestamp: 1500,
  brokerName: 'broker-a',
  topic: 'T',
  queueId: 0,
  queueOffset: 5,
  msgId: 'U1',
  offsetMsgId: 'O1',
  group: 'g',
  client: '',
  protocol: 'remoting',
  remoteAddress: '',
  reconsumeTimes: 1,
  target: '%RETRY%g',
};

describe('assembleTimeline', () => {
  it('derives stored and consumed from the message and the offsets when only the broker recorded the retry', () => {
    const t = assembleTimeline({
      msgId: 'U1',
      message: original,
      copies: [copy],
      records: [retry],
      positions: [
        { group: 'g', message: original, committed: 6 },
        { group: 'g', message: copy, committed: 1 },
      ],
      skippedRecords: 0,
    });
    expect(t.events.map((e) => [e.kind, e.source, e.reconsumeTimes ?? null])).toEqual([
      ['stored', 'derived', null],
      ['retry', 'broker', 1],
      ['consumed', 'derived', 1],
    ]);
    expect(t).toMatchObject({ found: true, uniqKey: 'U1', offsetMsgId: 'O1', topic: 'T' });
  });

  it('orders client records and prefers them to derived outcomes', () => {
    const records: TraceRecord[] = [
      { type: 'SubAfter', requestId: 'R2', msgId: 'U1', costTime: 1, success: true, keys: '', contextCode: 0, timestamp: 2101, group: 'g' },
      { type: 'SubBefore', timestamp: 2100, regionId: 'r', group: 'g', requestId: 'R2', msgId: 'U1', retryTimes: 1, keys: '' },
      retry,
      { type: 'SubAfter', requestId: 'R1', msgId: 'U1', costTime: 1, success: false, keys: '', contextCode: 4, timestamp: 1101, group: 'g' },
      { type: 'SubBefore', timestamp: 1100, regionId: 'r', group: 'g', requestId: 'R1', msgId: 'U1', retryTimes: 0, keys: '' },
      {
        type: 'Pub',
        timestamp: 990,
        regionId: 'r',
        group: 'pg',
        topic: 'T',
        msgId: 'U1',
        tags: '',
        keys: '',
        storeHost: 'h',
        bodyLength: 1,
        costTime: 2,
        msgType: 0,
        offsetMsgId: 'O1',
        success: true,
      },
    ];
    const t = assembleTimeline({
      msgId: 'U1',
      message: original,
      copies: [copy],
      records,
      positions: [
        { group: 'g', message: original, committed: 6 },
        { group: 'g', message: copy, committed: 1 },
      ],
      skippedRecords: 2,
    });
    expect(t.events.map((e) => e.kind)).toEqual(['publish', 'stored', 'consume-started', 'consume-failed', 'retry', 'consume-started', 'consumed']);
    expect(t.events[6]).toMatchObject({ source: 'client', group: 'g', reconsumeTimes: 1, success: true });
    expect(t.skippedRecords).toBe(2);
  });

  it('ends in dead-letter, derived from the DLQ copy when no record says so, and reports groups still behind', () => {
    const dead = msg({ storeTopic: '%DLQ%g', queueOffset: 0, reconsumeTimes: 1, storeTimestamp: 3000 });
    const t = assembleTimeline({
      msgId: 'U1',
      message: original,
      copies: [dead],
      records: [],
      positions: [
        { group: 'g', message: original, committed: 6 },
        { group: 'h', message: original, committed: -1 },
      ],
      skippedRecords: 0,
    });
    expect(t.events.map((e) => [e.kind, e.group ?? null])).toEqual([
      ['stored', null],
      ['pending', 'h'],
      ['dead-letter', 'g'],
    ]);
  });

  it('answers an unknown message with found: false and no events', () => {
    expect(assembleTimeline({ msgId: 'nope', copies: [], records: [], positions: [], skippedRecords: 0 })).toEqual({
      msgId: 'nope',
      found: false,
      events: [],
      skippedRecords: 0,
    });
  });
});
