import { describe, expect, it } from 'vitest';
import { heartbeatBody, lockBatchBody, parseClusterInfo, parseConsumerIdList, parseLockOkSet, parseTopicList } from './bodies.js';

describe('JSON bodies', () => {
  it('heartbeat carries producer and consumer data in the Java field names', () => {
    const hb = JSON.parse(
      heartbeatBody(
        'ip@1',
        ['PG'],
        [
          {
            groupName: 'G',
            consumeType: 'CONSUME_PASSIVELY',
            messageModel: 'BROADCASTING',
            consumeFromWhere: 'TIMESTAMP',
            subscriptionDataSet: [{ topic: 'T' }],
          },
        ],
      ).toString(),
    );
    expect(hb).toEqual({
      clientID: 'ip@1',
      producerDataSet: [{ groupName: 'PG' }],
      consumerDataSet: [
        {
          groupName: 'G',
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'BROADCASTING',
          consumeFromWhere: 'CONSUME_FROM_TIMESTAMP',
          subscriptionDataSet: [{ topic: 'T' }],
          unitMode: false,
        },
      ],
    });
  });

  it('lock request and response', () => {
    const q = { topic: 'T', brokerName: 'b', queueId: 1 };
    expect(JSON.parse(lockBatchBody('G', 'c', [q]).toString())).toEqual({ consumerGroup: 'G', clientId: 'c', onlyThisBroker: false, mqSet: [q] });
    expect(parseLockOkSet(Buffer.from(JSON.stringify({ lockOKMQSet: [q] })))).toEqual([q]);
    expect(parseLockOkSet(undefined)).toEqual([]);
  });

  it('consumer list, topic list and cluster info', () => {
    expect(parseConsumerIdList(Buffer.from('{"consumerIdList":["a","b"]}'))).toEqual(['a', 'b']);
    expect(() => parseConsumerIdList(Buffer.from('{}'))).toThrow(/consumerIdList/);
    expect(parseTopicList(Buffer.from('{"topicList":["x"]}'))).toEqual(['x']);
    const info = parseClusterInfo(
      Buffer.from('{"brokerAddrTable":{"b":{"cluster":"c","brokerName":"b","brokerAddrs":{0:"1.1.1.1:1"}}},"clusterAddrTable":{"c":["b"]}}'),
    );
    expect(info.brokerAddrTable['b']!.brokerAddrs).toEqual({ '0': '1.1.1.1:1' });
    expect(info.clusterAddrTable).toEqual({ c: ['b'] });
  });
});
