import { Perm } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { parseTopicRoute, publishQueues, routeFromDefault, subscribeQueues } from './topic-route.js';

const body = (o: unknown) => Buffer.from(JSON.stringify(o));

const ROUTE = {
  queueDatas: [
    { brokerName: 'b', readQueueNums: 2, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
    { brokerName: 'a', readQueueNums: 1, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
    { brokerName: 'ro', readQueueNums: 1, writeQueueNums: 1, perm: Perm.READ, topicSysFlag: 0 },
    { brokerName: 'slaveonly', readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
  ],
  brokerDatas: [
    { cluster: 'c', brokerName: 'a', brokerAddrs: { '0': '10.0.0.1:10911', '1': '10.0.0.2:10911' } },
    { cluster: 'c', brokerName: 'b', brokerAddrs: { '0': '10.0.0.3:10911' } },
    { cluster: 'c', brokerName: 'ro', brokerAddrs: { '0': '10.0.0.4:10911' } },
    { cluster: 'c', brokerName: 'slaveonly', brokerAddrs: { '1': '10.0.0.5:10911' } },
  ],
};

describe('topic route', () => {
  it('parses standard JSON and fastjson bare integer keys alike', () => {
    const std = parseTopicRoute(body(ROUTE));
    const bare = parseTopicRoute(Buffer.from(JSON.stringify(ROUTE).replace(/"(\d)":/g, '$1:')));
    expect(bare).toEqual(std);
    expect(std.brokerDatas[0]!.brokerAddrs).toEqual({ '0': '10.0.0.1:10911', '1': '10.0.0.2:10911' });
  });

  it('rejects bodies without queueDatas/brokerDatas', () => {
    expect(() => parseTopicRoute(body({ queueDatas: [] }))).toThrow(/brokerDatas/);
    expect(() => parseTopicRoute(Buffer.from('not json'))).toThrow(/not JSON/);
    expect(() => parseTopicRoute(undefined)).toThrow(/empty/);
  });

  it('publish queues: writable, with a master, in broker-name order', () => {
    const qs = publishQueues('T', parseTopicRoute(body(ROUTE)));
    expect(qs).toEqual([
      { topic: 'T', brokerName: 'a', queueId: 0 },
      { topic: 'T', brokerName: 'a', queueId: 1 },
      { topic: 'T', brokerName: 'b', queueId: 0 },
    ]);
  });

  it('subscribe queues: every readable queue', () => {
    const qs = subscribeQueues('T', parseTopicRoute(body(ROUTE)));
    expect(qs.map((q) => `${q.brokerName}:${q.queueId}`)).toEqual(['a:0', 'b:0', 'b:1', 'ro:0', 'slaveonly:0']);
  });

  it('orderTopicConf overrides the queue list', () => {
    const qs = publishQueues('T', parseTopicRoute(body({ ...ROUTE, orderTopicConf: 'b:2;a:1' })));
    expect(qs.map((q) => `${q.brokerName}:${q.queueId}`)).toEqual(['b:0', 'b:1', 'a:0']);
  });

  it('a route derived from TBW102 caps queue counts', () => {
    const def = parseTopicRoute(
      body({ queueDatas: [{ brokerName: 'a', readQueueNums: 8, writeQueueNums: 8, perm: 7, topicSysFlag: 0 }], brokerDatas: ROUTE.brokerDatas.slice(0, 1) }),
    );
    const r = routeFromDefault(def, 4);
    expect(r.queueDatas[0]).toMatchObject({ readQueueNums: 4, writeQueueNums: 4 });
    expect(publishQueues('NEW', r).length).toBe(4);
  });
});
