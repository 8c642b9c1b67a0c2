import type { ReceivedMessage, SendResult } from '@apogee/client';
import { describe, expect, it } from 'vitest';
import {
  isPrintableUtf8,
  iso,
  messageLines,
  messageView,
  permString,
  progressLines,
  progressTotals,
  renderBody,
  sendResultLine,
  table,
  age,
  transactionLines,
} from './format.js';

describe('table', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(
      table(
        ['A', 'BB', 'C'],
        [
          ['xxx', 1, 'end'],
          ['y', 22, 'e'],
        ],
      ),
    ).toEqual(['A    BB  C', 'xxx  1   end', 'y    22  e']);
  });
});

describe('scalars', () => {
  it('renders times and permissions', () => {
    expect(iso(0)).toBe('-');
    expect(iso(Date.UTC(2024, 0, 2, 3, 4, 5, 6))).toBe('2024-01-02T03:04:05.006Z');
    expect(permString(6)).toBe('RW-');
    expect(permString(4)).toBe('R--');
    expect(permString(7)).toBe('RWX');
    expect(permString(0)).toBe('---');
  });
});

describe('renderBody', () => {
  it('shows printable UTF-8 as text, including tabs and newlines', () => {
    expect(renderBody(Buffer.from('héllo\n\tworld'), 1024)).toEqual({ encoding: 'utf8', text: 'héllo\n\tworld', size: 13, truncated: false });
    expect(isPrintableUtf8(Buffer.alloc(0))).toBe(true);
  });

  it('shows control characters and invalid UTF-8 as base64', () => {
    expect(renderBody(Buffer.from([1, 2, 3]), 1024)).toEqual({ encoding: 'base64', text: 'AQID', size: 3, truncated: false });
    expect(renderBody(Buffer.from([0xff, 0x41]), 1024).encoding).toBe('base64');
    expect(isPrintableUtf8(Buffer.from('a\u001bb'))).toBe(false);
  });

  it('truncates to maxBytes without leaving half a character; 0 means no limit', () => {
    expect(renderBody(Buffer.from('abcdef'), 3)).toEqual({ encoding: 'utf8', text: 'abc', size: 6, truncated: true });
    // "é" is two bytes; a cut after its first byte drops it.
    expect(renderBody(Buffer.from('aé'), 2)).toEqual({ encoding: 'utf8', text: 'a', size: 3, truncated: true });
    expect(renderBody(Buffer.from([0, 1, 2, 3, 4, 5]), 3)).toEqual({ encoding: 'base64', text: 'AAEC', size: 6, truncated: true });
    expect(renderBody(Buffer.alloc(5000, 'x'), 0).text.length).toBe(5000);
  });
});

const message: ReceivedMessage = {
  topic: 'T',
  storeTopic: 'T',
  tags: 'a',
  keys: ['k1', 'k2'],
  properties: { TAGS: 'a', KEYS: 'k1 k2', x: 'y' },
  body: Buffer.from('hello'),
  msgId: 'UNIQ',
  offsetMsgId: 'OFFSET',
  queueId: 1,
  queueOffset: 7,
  commitLogOffset: 1234,
  storeTimestamp: Date.UTC(2024, 0, 1),
  bornTimestamp: Date.UTC(2024, 0, 1),
  reconsumeTimes: 0,
  flag: 0,
  sysFlag: 0,
  bornHost: '10.0.0.1:5',
  storeHost: '10.0.0.2:10911',
  brokerName: 'broker-a',
};

describe('messages', () => {
  it('builds a JSON view with the rendered body', () => {
    const v = messageView(message, 2);
    expect(v).toMatchObject({
      topic: 'T',
      tags: 'a',
      keys: ['k1', 'k2'],
      msgId: 'UNIQ',
      offsetMsgId: 'OFFSET',
      brokerName: 'broker-a',
      queueId: 1,
      queueOffset: 7,
    });
    expect(v.body).toEqual({ encoding: 'utf8', text: 'he', size: 5, truncated: true });
    expect(messageView({ ...message, tags: undefined, brokerName: undefined }, 10)).toMatchObject({ tags: null, brokerName: null });
  });

  it('prints topic, tags, keys, queue, offsets, times, sorted properties and the body', () => {
    const lines = messageLines(messageView(message, 1024));
    expect(lines).toContain('topic:          T');
    expect(lines).toContain('tags:           a');
    expect(lines).toContain('keys:           k1 k2');
    expect(lines).toContain('queue:          broker-a:1  queueOffset 7  commitLogOffset 1234');
    expect(lines).toContain('stored:         2024-01-01T00:00:00.000Z  10.0.0.2:10911');
    expect(lines.slice(lines.indexOf('properties:') + 1, lines.indexOf('properties:') + 4)).toEqual(['  KEYS=k1 k2', '  TAGS=a', '  x=y']);
    expect(lines.slice(-2)).toEqual(['body (5 bytes, utf8):', 'hello']);
    const retried = messageLines(messageView({ ...message, storeTopic: '%RETRY%G', properties: {} }, 1024));
    expect(retried).toContain('topic:          T (stored in %RETRY%G)');
    expect(retried).toContain('properties:     -');
  });

  it('prints a SendResult on one line', () => {
    const r: SendResult = { status: 'SEND_OK', msgId: 'U', offsetMsgId: 'O', messageQueue: { topic: 'T', brokerName: 'b', queueId: 3 }, queueOffset: 9 };
    expect(sendResultLine(r)).toBe('SEND_OK  msgId=U  offsetMsgId=O  queue=b:3  queueOffset=9');
  });
});

describe('group progress', () => {
  const rows = [
    { topic: 'T', brokerName: 'b', queueId: 0, brokerOffset: 10, consumerOffset: 4, lag: 6 },
    { topic: 'T', brokerName: 'b', queueId: 1, brokerOffset: 3, consumerOffset: -1, lag: 3 },
  ];

  it('sums offsets (a missing offset counts as 0) and lag', () => {
    expect(progressTotals(rows)).toEqual({ brokerOffset: 13, consumerOffset: 4, lag: 9 });
    expect(progressTotals([])).toEqual({ brokerOffset: 0, consumerOffset: 0, lag: 0 });
  });

  it('prints a table with "-" for a missing offset and a total line', () => {
    expect(progressLines('G', rows)).toEqual([
      'TOPIC  BROKER  QUEUE  BROKER_OFFSET  CONSUMER_OFFSET  LAG',
      'T      b       0      10             4                6',
      'T      b       1      3              -                3',
      'total: brokerOffset 13  consumerOffset 4  lag 9',
    ]);
    expect(progressLines('G', [])).toEqual(['group G: no queue with a committed offset or subscription']);
  });
});

describe('transactionLines', () => {
  it('renders ages and one row per open transaction', () => {
    expect([age(0, 42_000), age(0, 425_000), age(0, 11_520_000)]).toEqual(['42s', '7m05s', '3h12m']);
    expect(transactionLines([], 0)).toEqual(['no open transaction']);
    const lines = transactionLines(
      [
        {
          brokerAddr: '127.0.0.1:10911',
          topic: 'Orders',
          queueId: 1,
          halfOffset: 0,
          commitLogOffset: 0,
          offsetMsgId: 'ABC',
          transactionId: 'U1',
          producerGroup: 'pg',
          storeTimestamp: 1000,
          checkTimes: 2,
        },
      ],
      61_000,
    );
    expect(lines[0]).toMatch(/^TOPIC\s+QUEUE\s+MSG_ID\s+TRANSACTION_ID\s+PRODUCER_GROUP\s+AGE\s+CHECKS\s+BROKER$/);
    expect(lines[1]!.split(/\s+/)).toEqual(['Orders', '1', 'ABC', 'U1', 'pg', '1m00s', '2', '127.0.0.1:10911']);
  });
});
