import { describe, expect, it } from 'vitest';
import { type BrokerTraceRecord, type PubRecord, decodeTraceRecords, encodeTraceRecord, encodeTraceRecords, isBrokerTraceRecord } from './trace-record.js';

const A = '\u0001';
const B = '\u0002';
const j = (...f: string[]): string => f.join(A) + B;

const PUB: PubRecord = {
  type: 'Pub',
  timestamp: 1700000000123,
  regionId: 'DefaultRegion',
  group: 'pg',
  topic: 'T',
  msgId: '7F0000010001000000000000000A0001',
  tags: 'tagA',
  keys: 'k1 k2',
  storeHost: '127.0.0.1:10911',
  bodyLength: 5,
  costTime: 3,
  msgType: 0,
  offsetMsgId: '7F00000100002A9F0000000000000100',
  success: true,
};

describe('trace records (RocketMQ TraceDataEncoder format)', () => {
  it('encodes Pub in Java’s 14-field layout, byte for byte', () => {
    expect(encodeTraceRecord(PUB)).toBe(
      j('Pub', '1700000000123', 'DefaultRegion', 'pg', 'T', PUB.msgId, 'tagA', 'k1 k2', '127.0.0.1:10911', '5', '3', '0', PUB.offsetMsgId, 'true'),
    );
  });

  it('encodes SubBefore and SubAfter as the Java client does', () => {
    expect(
      encodeTraceRecord({ type: 'SubBefore', timestamp: 5, regionId: 'DefaultRegion', group: 'cg', requestId: 'R', msgId: 'M', retryTimes: 1, keys: 'k' }),
    ).toBe(j('SubBefore', '5', 'DefaultRegion', 'cg', 'R', 'M', '1', 'k'));
    expect(
      encodeTraceRecord({ type: 'SubAfter', requestId: 'R', msgId: 'M', costTime: 7, success: false, keys: 'k', contextCode: 4, timestamp: 9, group: 'cg' }),
    ).toBe(j('SubAfter', 'R', 'M', '7', 'false', 'k', '4', '9', 'cg'));
  });

  it('decodes 13-, 14- and 15-field Pub records', () => {
    const base = ['Pub', '1', 'DefaultRegion', 'pg', 'T', 'M', 'null', 'null', 'h:1', '5', '3', '3'];
    const [r13, r14, r15] = decodeTraceRecords(j(...base, 'true') + j(...base, 'OFF', 'false') + j(...base, 'OFF', 'true', 'client:1')).records as PubRecord[];
    expect(r13).toMatchObject({ offsetMsgId: '', success: true, tags: '', keys: '', msgType: 3 });
    expect(r14).toMatchObject({ offsetMsgId: 'OFF', success: false });
    expect(r15).toMatchObject({ offsetMsgId: 'OFF', success: true, clientHost: 'client:1' });
  });

  it('decodes 6-, 7- and 9-field SubAfter records', () => {
    const { records, skipped } = decodeTraceRecords(
      j('SubAfter', 'R', 'M', '7', 'true', 'k') + j('SubAfter', 'R', 'M', '7', 'TRUE', 'k', '0') + j('SubAfter', 'R', 'M', '7', 'false', 'k', '4', '99', 'cg'),
    );
    expect(skipped).toBe(0);
    expect(records).toEqual([
      { type: 'SubAfter', requestId: 'R', msgId: 'M', costTime: 7, success: true, keys: 'k' },
      { type: 'SubAfter', requestId: 'R', msgId: 'M', costTime: 7, success: true, keys: 'k', contextCode: 0 },
      { type: 'SubAfter', requestId: 'R', msgId: 'M', costTime: 7, success: false, keys: 'k', contextCode: 4, timestamp: 99, group: 'cg' },
    ]);
  });

  it('decodes EndTransaction and Recall', () => {
    const { records } = decodeTraceRecords(
      j('EndTransaction', '1', 'DefaultRegion', 'tg', 'T', 'M', 't', 'k', 'h:1', '1', 'TX', 'COMMIT_MESSAGE', 'false') +
        j('Recall', '2', 'DefaultRegion', 'g', 'T', 'M', 'true'),
    );
    expect(records[0]).toMatchObject({
      type: 'EndTransaction',
      transactionId: 'TX',
      transactionState: 'COMMIT_MESSAGE',
      fromTransactionCheck: false,
      msgType: 1,
    });
    expect(records[1]).toEqual({ type: 'Recall', timestamp: 2, regionId: 'DefaultRegion', group: 'g', topic: 'T', msgId: 'M', success: true });
  });

  it('round-trips broker records and tells them apart', () => {
    const r: BrokerTraceRecord = {
      type: 'Retry',
      timestamp: 10,
      brokerName: 'broker-a',
      topic: 'T',
      queueId: 2,
      queueOffset: 40,
      msgId: 'U',
      offsetMsgId: 'O',
      group: 'cg',
      client: '',
      protocol: 'remoting',
      remoteAddress: '127.0.0.1:5000',
      reconsumeTimes: 1,
      target: '%RETRY%cg',
    };
    const body = encodeTraceRecords([r, PUB]);
    expect(body.split(B)[0]!.split(A)).toHaveLength(14);
    const { records } = decodeTraceRecords(Buffer.from(body, 'utf8'));
    expect(records).toEqual([r, PUB]);
    expect(records.map(isBrokerTraceRecord)).toEqual([true, false]);
  });

  it('skips garbage without throwing, and keeps the good records around it', () => {
    const good = encodeTraceRecord(PUB);
    const body =
      'junk' + B + j('Pub', 'notanumber', 'x') + B + good + j('SubBefore', '1', 'r', 'g', 'R', 'M', 'x', 'k') + j('Store', '1') + '\u0000\u0001\u0002' + good;
    const { records, skipped } = decodeTraceRecords(body);
    expect(records).toEqual([PUB, PUB]);
    expect(skipped).toBe(5);
    expect(decodeTraceRecords('')).toEqual({ records: [], skipped: 0 });
    expect(decodeTraceRecords(Buffer.from([0xff, 0xfe, 0x02]))).toEqual({ records: [], skipped: 1 });
  });

  it('keeps separators inside values from splitting a record', () => {
    const decoded = decodeTraceRecords(encodeTraceRecord({ ...PUB, keys: `a${A}b${B}c` })).records[0] as PubRecord;
    expect(decoded.keys).toBe('a b c');
  });
});
