/**
 * Route bodies as clients read them. ali-ons 3.12.0 parses GET_ROUTEINFO_BY_TOPIC answers with the
 * eval-based JSON2 and turns them into queues with MQClient#_topicRouteData2TopicPublishInfo /
 * _topicRouteData2TopicSubscribeInfo; both are loaded here and fed our output.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { KvConfigStore } from './kv-config.js';
import { Perm } from '@apogee/message';
import { RouteRegistry } from './route-registry.js';
import { clusterInfoToJson, kvTableToJson, topicListToJson, topicRouteDataToJson } from './route-json.js';
import { registration, topic } from './test-fixtures.js';
import { dataVersionToJson, parseDataVersion } from './data-version-json.js';
import { MalformedNamesrvBodyError } from './errors.js';

const require = createRequire(import.meta.url);
const JSON2 = require('JSON2') as { parse(text: string): unknown };

interface AliQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}
interface AliClientProto {
  _topicRouteData2TopicPublishInfo(topic: string, route: unknown): { orderTopic: boolean; messageQueueList: AliQueue[] };
  _topicRouteData2TopicSubscribeInfo(topic: string, route: unknown): AliQueue[];
}
const aliClient = (require('ali-ons/lib/mq_client.js') as { prototype: AliClientProto }).prototype;

const MASTER_A = '10.0.0.1:10911';
const SLAVE_A = '10.0.0.2:10911';

function sampleRegistry(kv?: KvConfigStore): RouteRegistry {
  const registry = new RouteRegistry(kv === undefined ? {} : { kv });
  registry.registerBroker(registration({ topicConfigs: [topic('TopicTest', 4), topic('ReadOnly', 2, Perm.READ)] }));
  registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1, channelId: 'c2' }));
  registry.registerBroker(registration({ brokerName: 'broker-b', brokerAddr: '10.0.1.1:10911', topicConfigs: [topic('TopicTest', 2)], channelId: 'c3' }));
  return registry;
}

describe('topicRouteDataToJson', () => {
  it('writes fastjson standard form: fields in name order, quoted brokerId keys', () => {
    const json = topicRouteDataToJson(sampleRegistry().routeFor('TopicTest')!);
    expect(json).toBe(
      '{"brokerDatas":[' +
        '{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false},' +
        '{"brokerAddrs":{"0":"10.0.1.1:10911"},"brokerName":"broker-b","cluster":"DefaultCluster","enableActingMaster":false}],' +
        '"filterServerTable":{},' +
        '"queueDatas":[' +
        '{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4},' +
        '{"brokerName":"broker-b","perm":6,"readQueueNums":2,"topicSysFlag":0,"writeQueueNums":2}]}',
    );
    expect(JSON.parse(json)).toEqual(sampleRegistry().routeFor('TopicTest'));
  });

  it('parses with ali-ons JSON2 into the queueDatas / brokerDatas / brokerAddrs["0"] it uses', () => {
    const parsed = JSON2.parse(topicRouteDataToJson(sampleRegistry().routeFor('TopicTest')!)) as {
      queueDatas: Array<{ brokerName: string; perm: number; writeQueueNums: number }>;
      brokerDatas: Array<{ brokerName: string; brokerAddrs: Record<string, string> }>;
    };
    expect(parsed.queueDatas.map((q) => q.brokerName)).toEqual(['broker-a', 'broker-b']);
    expect(parsed.brokerDatas[0]!.brokerAddrs['0']).toBe(MASTER_A);
    expect(parsed.brokerDatas[0]!.brokerAddrs[1]).toBe(SLAVE_A);

    const publish = aliClient._topicRouteData2TopicPublishInfo('TopicTest', parsed);
    expect(publish.orderTopic).toBe(false);
    expect(publish.messageQueueList.map((q) => `${q.brokerName}/${q.queueId}`)).toEqual([
      'broker-a/0',
      'broker-a/1',
      'broker-a/2',
      'broker-a/3',
      'broker-b/0',
      'broker-b/1',
    ]);
    expect(aliClient._topicRouteData2TopicSubscribeInfo('TopicTest', parsed)).toHaveLength(6);
  });

  it('ali-ons publishes nowhere on a read-only topic but subscribes to it', () => {
    const parsed = JSON2.parse(topicRouteDataToJson(sampleRegistry().routeFor('ReadOnly')!));
    expect(aliClient._topicRouteData2TopicPublishInfo('ReadOnly', parsed).messageQueueList).toEqual([]);
    expect(aliClient._topicRouteData2TopicSubscribeInfo('ReadOnly', parsed)).toHaveLength(2);
  });

  it('ali-ons does not publish to a group without a master ("0")', async () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1 }));
    const parsed = JSON2.parse(topicRouteDataToJson(registry.routeFor('TopicTest')!));
    expect(aliClient._topicRouteData2TopicPublishInfo('TopicTest', parsed).messageQueueList).toEqual([]);
  });

  it('carries orderTopicConf, which ali-ons turns into ordered queues', async () => {
    const kv = await KvConfigStore.open();
    await kv.put('ORDER_TOPIC_CONFIG', 'TopicTest', 'broker-a:2;broker-b:1');
    const json = topicRouteDataToJson(sampleRegistry(kv).routeFor('TopicTest')!);
    expect(json).toContain('"filterServerTable":{},"orderTopicConf":"broker-a:2;broker-b:1","queueDatas"');
    const publish = aliClient._topicRouteData2TopicPublishInfo('TopicTest', JSON2.parse(json));
    expect(publish.orderTopic).toBe(true);
    expect(publish.messageQueueList.map((q) => `${q.brokerName}/${q.queueId}`)).toEqual(['broker-a/0', 'broker-a/1', 'broker-b/0']);
  });

  it('escapes names safely and keeps zoneName when set', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ brokerName: 'b"\\</script>', zoneName: 'z1', topicConfigs: [topic('%RETRY%g"1')], filterServerList: ['f:1'] }));
    const route = registry.routeFor('%RETRY%g"1')!;
    const json = topicRouteDataToJson(route);
    expect(JSON.parse(json)).toEqual(route);
    expect(JSON2.parse(json)).toEqual(route);
    expect(json).toContain('"enableActingMaster":false,"zoneName":"z1"');
  });
});

describe('other NameServer bodies', () => {
  it('cluster info', () => {
    const json = clusterInfoToJson(sampleRegistry().clusterInfo());
    expect(json).toBe(
      '{"brokerAddrTable":{' +
        '"broker-a":{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false},' +
        '"broker-b":{"brokerAddrs":{"0":"10.0.1.1:10911"},"brokerName":"broker-b","cluster":"DefaultCluster","enableActingMaster":false}},' +
        '"clusterAddrTable":{"DefaultCluster":["broker-a","broker-b"]}}',
    );
  });

  it('sorts map keys as strings, even numeric-looking ones', () => {
    const json = clusterInfoToJson({ brokerAddrTable: {}, clusterAddrTable: { b: ['x'], '10': ['y'], '9': ['z'] } });
    expect(json).toBe('{"brokerAddrTable":{},"clusterAddrTable":{"10":["y"],"9":["z"],"b":["x"]}}');
  });

  it('topic list and KV table', () => {
    expect(topicListToJson(sampleRegistry().topicList())).toBe('{"topicList":["ReadOnly","TopicTest"]}');
    expect(topicListToJson(['C'], '1.2.3.4:10911')).toBe('{"brokerAddr":"1.2.3.4:10911","topicList":["C"]}');
    expect(kvTableToJson({ k2: 'v2', k1: 'v1' })).toBe('{"table":{"k1":"v1","k2":"v2"}}');
  });

  it('data version body round trip and garbage', () => {
    const dv = { stateVersion: 2, timestamp: 1_700_000_000_123, counter: 7 };
    const json = dataVersionToJson(dv);
    expect(json).toBe('{"counter":7,"stateVersion":2,"timestamp":1700000000123}');
    expect(parseDataVersion(Buffer.from(json))).toEqual(dv);
    expect(() => parseDataVersion(Buffer.from('{"counter":"x"}'))).toThrow(MalformedNamesrvBodyError);
    expect(() => parseDataVersion(Buffer.from('nope'))).toThrow(MalformedNamesrvBodyError);
    expect(() => parseDataVersion(Buffer.from('[1]'))).toThrow(MalformedNamesrvBodyError);
  });
});
