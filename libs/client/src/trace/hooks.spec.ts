import type { ClientTraceRecord, PubRecord, SubAfterRecord, SubBeforeRecord } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../message.js';
import type { SendResult } from '../producer/send-result.js';
import { ConsumerTrace } from './consumer-trace.js';
import { ProducerTrace } from './producer-trace.js';
import type { TraceSink } from './trace-dispatcher.js';

function sink(): TraceSink & { added: Array<{ record: ClientTraceRecord; keys: readonly string[] }> } {
  const added: Array<{ record: ClientTraceRecord; keys: readonly string[] }> = [];
  return { topic: 'RMQ_SYS_TRACE_TOPIC', added, add: (record, keys) => void added.push({ record, keys }), shutdown: async () => {} };
}

const result = (over: Partial<SendResult> = {}): SendResult => ({
  status: 'SEND_OK',
  msgId: 'UNIQ1',
  offsetMsgId: '7F00000100002A9F0000000000000100',
  messageQueue: { topic: 'T', brokerName: 'b', queueId: 0 },
  queueOffset: 3,
  ...over,
});

const received = (reconsumeTimes: number, properties: Record<string, string> = {}): ReceivedMessage => ({
  topic: 'T',
  storeTopic: 'T',
  tags: undefined,
  keys: ['k'],
  properties,
  body: Buffer.alloc(0),
  msgId: 'UNIQ1',
  offsetMsgId: 'O1',
  queueId: 0,
  queueOffset: 0,
  commitLogOffset: 0,
  storeTimestamp: 0,
  bornTimestamp: 0,
  reconsumeTimes,
  flag: 0,
  sysFlag: 0,
  bornHost: '',
  storeHost: '',
  brokerName: undefined,
});

describe('ProducerTrace', () => {
  it('records a Pub per send with the store host from the offset id, keyed by msgId and user keys', async () => {
    const s = sink();
    const t = new ProducerTrace(s, 'pg');
    const r = await t.send({ topic: 'T', body: 'héllo', tags: 'tA', keys: ['k1', 'k2'], delayLevel: 2 }, undefined, async () => result());
    expect(r.msgId).toBe('UNIQ1');
    const pub = s.added[0]!.record as PubRecord;
    expect(pub).toMatchObject({ type: 'Pub', group: 'pg', topic: 'T', msgId: 'UNIQ1', tags: 'tA', keys: 'k1 k2', storeHost: '127.0.0.1:10911', bodyLength: 6 });
    expect(pub).toMatchObject({ msgType: 3, regionId: 'DefaultRegion', success: true });
    expect(s.added[0]!.keys).toEqual(['UNIQ1', 'k1 k2']);
  });

  it('writes nothing when the broker answered TRACE_ON=false, for the trace topic itself, or when the send failed', async () => {
    const s = sink();
    const t = new ProducerTrace(s, 'pg');
    await t.send({ topic: 'T', body: 'x' }, undefined, async () => result({ traceOn: false }));
    await t.send({ topic: 'RMQ_SYS_TRACE_TOPIC', body: 'x' }, undefined, async () => result());
    await expect(t.send({ topic: 'T', body: 'x' }, undefined, async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(s.added).toEqual([]);
  });
});

describe('ConsumerTrace', () => {
  it('brackets a listener call with SubBefore and SubAfter sharing a request id', async () => {
    const s = sink();
    const consume = new ConsumerTrace(s, 'cg').wrap(() => 'RECONSUME_LATER');
    expect(await consume([received(1)], { queue: { topic: 'T', brokerName: 'b', queueId: 0 } })).toBe('RECONSUME_LATER');
    const [before, after] = s.added.map((a) => a.record) as [SubBeforeRecord, SubAfterRecord];
    expect(before).toMatchObject({ type: 'SubBefore', group: 'cg', msgId: 'UNIQ1', retryTimes: 1, keys: 'k' });
    expect(after).toMatchObject({ type: 'SubAfter', requestId: before.requestId, success: false, contextCode: 4, group: 'cg' });
  });

  it('passes a throw on after recording it, and skips messages marked TRACE_ON=false', async () => {
    const s = sink();
    const wrapped = new ConsumerTrace(s, 'cg').wrap(() => {
      throw new Error('boom');
    });
    const ctx = { queue: { topic: 'T', brokerName: 'b', queueId: 0 } };
    await expect(wrapped([received(0)], ctx)).rejects.toThrow('boom');
    expect((s.added[1]!.record as SubAfterRecord).contextCode).toBe(2);
    s.added.length = 0;
    const plain = new ConsumerTrace(s, 'cg').wrap(() => undefined);
    expect(await plain([received(0, { TRACE_ON: 'false' })], ctx)).toBeUndefined();
    expect(s.added).toEqual([]);
  });
});
