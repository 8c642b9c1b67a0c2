import { describe, expect, it } from 'vitest';
import {
  createTopicHeader,
  pullMessageHeader,
  queryConsumerOffsetHeader,
  queryMessageHeader,
  sendBackHeader,
  sendMessageV2Header,
  unregisterClientHeader,
} from './headers.js';

describe('request headers', () => {
  it('SEND_MESSAGE_V2 uses a–n, omits unset optional fields', () => {
    const h = sendMessageV2Header({
      producerGroup: 'PG',
      topic: 'T',
      queueId: 3,
      sysFlag: 1,
      bornTimestamp: 1700000000000,
      flag: 0,
      properties: 'p',
      brokerName: 'b',
    });
    expect(h).toEqual({ a: 'PG', b: 'T', c: 'TBW102', d: '4', e: '3', f: '1', g: '1700000000000', h: '0', i: 'p', j: '0', k: 'false', m: 'false', n: 'b' });
    const retry = sendMessageV2Header({
      producerGroup: 'PG',
      topic: '%RETRY%G',
      queueId: 0,
      sysFlag: 0,
      bornTimestamp: 1,
      flag: 0,
      properties: '',
      reconsumeTimes: 2,
      maxReconsumeTimes: 16,
      batch: true,
    });
    expect(retry).toMatchObject({ j: '2', l: '16', m: 'true' });
    expect(retry['n']).toBeUndefined();
  });

  it('PULL_MESSAGE', () => {
    const h = pullMessageHeader({
      consumerGroup: 'G',
      queue: { topic: 'T', brokerName: 'b', queueId: 1 },
      queueOffset: 10,
      maxMsgNums: 32,
      sysFlag: 7,
      commitOffset: 9,
      suspendTimeoutMillis: 15000,
      subscription: 'a || b',
      subVersion: 123,
    });
    expect(h).toEqual({
      consumerGroup: 'G',
      topic: 'T',
      queueId: '1',
      queueOffset: '10',
      maxMsgNums: '32',
      sysFlag: '7',
      commitOffset: '9',
      suspendTimeoutMillis: '15000',
      subscription: 'a || b',
      subVersion: '123',
      expressionType: 'TAG',
    });
  });

  it('offset, send-back, unregister, query and create-topic headers', () => {
    expect(queryConsumerOffsetHeader('G', { topic: 'T', brokerName: 'b', queueId: 2 })).toEqual({
      consumerGroup: 'G',
      topic: 'T',
      queueId: '2',
      setZeroIfNotFound: 'false',
    });
    expect(sendBackHeader({ offset: 2 ** 40, group: 'G', delayLevel: -1, originMsgId: 'O', originTopic: 'T', maxReconsumeTimes: 16 })).toEqual({
      offset: String(2 ** 40),
      group: 'G',
      delayLevel: '-1',
      originMsgId: 'O',
      originTopic: 'T',
      unitMode: 'false',
      maxReconsumeTimes: '16',
    });
    expect(unregisterClientHeader('id', { consumerGroup: 'G' })).toEqual({ clientID: 'id', consumerGroup: 'G' });
    expect(queryMessageHeader({ topic: 'T', key: 'k', maxNum: 32, beginTimestamp: 0, endTimestamp: 5 }, true)).toEqual({
      topic: 'T',
      key: 'k',
      maxNum: '32',
      beginTimestamp: '0',
      endTimestamp: '5',
      _UNIQUE_KEY_QUERY: 'true',
    });
    expect(queryMessageHeader({ topic: 'T', key: 'k', maxNum: 1, beginTimestamp: 0, endTimestamp: 5 }, false)['_UNIQUE_KEY_QUERY']).toBeUndefined();
    // A bigint bound reaches Long.MAX_VALUE, as the Java client's viewMessage sends it.
    expect(queryMessageHeader({ topic: 'T', key: 'k', maxNum: 1, beginTimestamp: 0, endTimestamp: 2n ** 63n - 1n }, true)['endTimestamp']).toBe(
      '9223372036854775807',
    );
    expect(createTopicHeader({ topic: 'T', readQueueNums: 8, writeQueueNums: 4, perm: 6, order: false })).toMatchObject({
      defaultTopic: 'TBW102',
      topicFilterType: 'SINGLE_TAG',
      readQueueNums: '8',
      writeQueueNums: '4',
    });
  });
});
