import { RequestCode, ResponseCode, responseTo } from '@apogee/remoting';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, ClientError, LONG_MAX_VALUE, Producer } from '../src/index.js';
import { startCluster } from './fake-cluster.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const cluster = await startCluster(['broker-a', 'broker-b']);
  cleanups.push(cluster.close);
  cluster.ns.topics.set('T', { brokers: cluster.brokers, queues: 2 });
  const admin = new Admin({ nameServer: cluster.ns.addr });
  cleanups.push(() => admin.shutdown());
  return { ...cluster, admin };
}

describe('Admin on the wire', () => {
  it('reads cluster info and the topic list', async () => {
    const { admin, brokers } = await setup();
    const info = await admin.clusterInfo();
    expect(info.clusterAddrTable).toEqual({ DefaultCluster: ['broker-a', 'broker-b'] });
    expect(info.brokerAddrTable['broker-b']!.brokerAddrs['0']).toBe(brokers[1]!.addr);
    expect(await admin.listTopics()).toEqual(['T']);
  });

  it('creates a topic on every master with UPDATE_AND_CREATE_TOPIC', async () => {
    const { admin, brokers } = await setup();
    const addrs = await admin.createTopic('NEW', { readQueueNums: 3, writeQueueNums: 2, order: true });
    expect(addrs.sort()).toEqual(brokers.map((b) => b.addr).sort());
    for (const b of brokers) {
      expect(b.requests(RequestCode.UPDATE_AND_CREATE_TOPIC)[0]!.extFields).toEqual({
        topic: 'NEW',
        defaultTopic: 'TBW102',
        readQueueNums: '3',
        writeQueueNums: '2',
        perm: '6',
        topicFilterType: 'SINGLE_TAG',
        topicSysFlag: '0',
        order: 'true',
      });
    }
    await admin.createTopic('ONE', { brokerAddr: brokers[0]!.addr });
    expect(brokers[1]!.requests(RequestCode.UPDATE_AND_CREATE_TOPIC).length).toBe(1);
    brokers[0]!.override(RequestCode.UPDATE_AND_CREATE_TOPIC, (req) => responseTo(req, ResponseCode.NO_PERMISSION, 'read only'));
    await expect(admin.createTopic('X', { cluster: 'DefaultCluster' })).rejects.toMatchObject({
      responseCode: ResponseCode.NO_PERMISSION,
      remark: 'read only',
    });
  });

  it('describes a topic and a group progress', async () => {
    const { admin, brokers, ns } = await setup();
    const [a, b] = brokers as [(typeof brokers)[0], (typeof brokers)[0]];
    for (let i = 0; i < 3; i++) a.put('T', 0, Buffer.from('x'), {});
    b.put('T', 1, Buffer.from('y'), {});
    const d = await admin.describeTopic('T');
    expect(d.queues).toEqual([
      { brokerName: 'broker-a', queueId: 0, minOffset: 0, maxOffset: 3 },
      { brokerName: 'broker-a', queueId: 1, minOffset: 0, maxOffset: 0 },
      { brokerName: 'broker-b', queueId: 0, minOffset: 0, maxOffset: 0 },
      { brokerName: 'broker-b', queueId: 1, minOffset: 0, maxOffset: 1 },
    ]);
    a.offsets.set('T@G@0', 1);
    ns.topics.set('%RETRY%G', { brokers: [a], queues: 1 });
    const rows = await admin.groupProgress('G', 'T');
    expect(rows).toContainEqual({ topic: 'T', brokerName: 'broker-a', queueId: 0, brokerOffset: 3, consumerOffset: 1, lag: 2 });
    expect(rows).toContainEqual({ topic: 'T', brokerName: 'broker-b', queueId: 1, brokerOffset: 1, consumerOffset: -1, lag: 1 });
    expect(rows.filter((r) => r.topic === '%RETRY%G').length).toBe(1);
    // Without a %RETRY% route the group's retry topic is skipped, not an error.
    const rows2 = await admin.groupProgress('OTHER', ['T']);
    expect(rows2.length).toBe(4);
  });

  it('reads a group progress with GET_CONSUME_STATS from every master when no topic is given', async () => {
    const { admin, brokers } = await setup();
    const [a, b] = brokers as [(typeof brokers)[0], (typeof brokers)[0]];
    for (let i = 0; i < 3; i++) a.put('T', 0, Buffer.from('x'), {});
    for (let i = 0; i < 2; i++) b.put('T', 1, Buffer.from('y'), {});
    a.put('U', 0, Buffer.from('z'), {});
    a.offsets.set('T@G@0', 1);
    a.offsets.set('U@G@0', 1);
    b.offsets.set('T@G@1', 2);
    b.offsets.set('T@OTHER@0', 0);
    expect(await admin.groupProgress('G')).toEqual([
      { topic: 'T', brokerName: 'broker-a', queueId: 0, brokerOffset: 3, consumerOffset: 1, lag: 2 },
      { topic: 'T', brokerName: 'broker-b', queueId: 1, brokerOffset: 2, consumerOffset: 2, lag: 0 },
      { topic: 'U', brokerName: 'broker-a', queueId: 0, brokerOffset: 1, consumerOffset: 1, lag: 0 },
    ]);
    for (const broker of brokers) expect(broker.requests(RequestCode.GET_CONSUME_STATS)[0]!.extFields).toEqual({ consumerGroup: 'G' });
    expect(await admin.groupProgress('NOBODY')).toEqual([]);
  });

  it('falls back to the %RETRY% topic when a broker refuses GET_CONSUME_STATS', async () => {
    const { admin, brokers, ns } = await setup();
    const [a, b] = brokers as [(typeof brokers)[0], (typeof brokers)[0]];
    b.override(RequestCode.GET_CONSUME_STATS, (req) => responseTo(req, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, 'no 208 here'));
    a.offsets.set('T@G@0', 1);
    a.put('%RETRY%G', 0, Buffer.from('r'), {});
    ns.topics.set('%RETRY%G', { brokers: [a], queues: 1 });
    expect(await admin.groupProgress('G')).toEqual([{ topic: '%RETRY%G', brokerName: 'broker-a', queueId: 0, brokerOffset: 1, consumerOffset: -1, lag: 1 }]);
  });

  it('finds messages by offset id, key and unique key', async () => {
    const { admin, ns, brokers } = await setup();
    const producer = new Producer({ nameServer: ns.addr });
    await producer.start();
    cleanups.push(() => producer.shutdown());
    const sent = [];
    for (let i = 0; i < 4; i++) sent.push(await producer.send({ topic: 'T', body: `body${i}`, keys: ['order-7', `k${i}`], tags: 'tg' }));
    const viewed = await admin.viewMessage(sent[2]!.offsetMsgId);
    expect(viewed.body.toString()).toBe('body2');
    expect(viewed.msgId).toBe(sent[2]!.msgId);
    expect(viewed.offsetMsgId).toBe(sent[2]!.offsetMsgId);
    expect(viewed.tags).toBe('tg');
    expect(viewed.keys).toEqual(['order-7', 'k2']);
    expect(brokers.some((b) => viewed.brokerName === b.name && b.requests(RequestCode.VIEW_MESSAGE_BY_ID).length === 1)).toBe(true);
    const byKey = await admin.queryMessageByKey('T', 'order-7');
    expect(byKey.map((m) => m.body.toString()).sort()).toEqual(['body0', 'body1', 'body2', 'body3']);
    expect((await admin.queryMessageByKey('T', 'k3')).map((m) => m.body.toString())).toEqual(['body3']);
    const byUniq = await admin.queryMessageByUniqKey('T', sent[1]!.msgId);
    expect(byUniq.map((m) => m.body.toString())).toEqual(['body1']);
    const q = brokers.flatMap((b) => b.requests(RequestCode.QUERY_MESSAGE)).find((r) => r.extFields['_UNIQUE_KEY_QUERY'] === 'true');
    expect(q!.extFields).toMatchObject({ topic: 'T', key: sent[1]!.msgId, maxNum: '32' });
    // Without an upper bound, as the Java client's viewMessage asks.
    expect((await admin.queryMessageByUniqKey('T', sent[1]!.msgId, { end: LONG_MAX_VALUE })).map((m) => m.body.toString())).toEqual(['body1']);
    const unbounded = brokers.flatMap((b) => b.requests(RequestCode.QUERY_MESSAGE)).filter((r) => r.extFields['endTimestamp'] === '9223372036854775807');
    expect(unbounded.length).toBeGreaterThan(0);
    expect(await admin.queryMessageByKey('T', 'missing')).toEqual([]);
    await expect(admin.viewMessage('nope')).rejects.toBeInstanceOf(ClientError);
  });

  it('lists consumer connections from every master', async () => {
    const { admin, brokers } = await setup();
    brokers[0]!.consumers.set('G', new Map([['c1', null as never]]));
    brokers[1]!.consumers.set(
      'G',
      new Map([
        ['c2', null as never],
        ['c1', null as never],
      ]),
    );
    expect(await admin.consumerConnections('G')).toEqual(['c1', 'c2']);
    expect(await admin.consumerConnections('NOBODY')).toEqual([]);
  });
});
