import { describe, expect, it } from 'vitest';
import { ClientError } from '../errors.js';
import { compareProgress, parseConsumeStats } from './consume-stats.js';

const key = (topic: string, brokerName: string, queueId: number) => JSON.stringify({ topic, brokerName, queueId });

describe('parseConsumeStats', () => {
  it('reads queue keys given as JSON strings and computes the lag', () => {
    const body = Buffer.from(
      JSON.stringify({
        offsetTable: {
          [key('T', 'b', 1)]: { brokerOffset: 10, consumerOffset: 4, lastTimestamp: 0 },
          [key('T', 'b', 0)]: { brokerOffset: 3, consumerOffset: -1, lastTimestamp: 0 },
          'not json': { brokerOffset: 1, consumerOffset: 0 },
          [JSON.stringify({ topic: 'T' })]: { brokerOffset: 1, consumerOffset: 0 },
        },
        consumeTps: 0,
      }),
    );
    expect(parseConsumeStats(body).sort(compareProgress)).toEqual([
      { topic: 'T', brokerName: 'b', queueId: 0, brokerOffset: 3, consumerOffset: -1, lag: 3 },
      { topic: 'T', brokerName: 'b', queueId: 1, brokerOffset: 10, consumerOffset: 4, lag: 6 },
    ]);
  });

  it('refuses a body without offsetTable', () => {
    expect(() => parseConsumeStats(Buffer.from('{"consumeTps":0}'))).toThrow(ClientError);
    expect(() => parseConsumeStats(undefined)).toThrow(ClientError);
  });
});
