import net from 'node:net';
import { decodeRecords, encodeBatchBody, encodeProperties, decodeOffsetMessageId } from '@apogee/message';
import { RemotingClient, RequestCode, ResponseCode, encodeFrame, makeRequest, type RemotingCommand } from '@apogee/remoting';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await Harness.start({ messageDelayLevel: '50ms 100ms 150ms 200ms' }, { maxMessageSize: 64 * 1024 });
});
afterEach(async () => {
  await h.close();
});

const json = (res: RemotingCommand): any => JSON.parse(res.body!.toString('utf8'));

async function routeOf(topic: string): Promise<RemotingCommand> {
  const c = new RemotingClient();
  try {
    return await c.invoke(h.namesrvAddr, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic } }));
  } finally {
    c.close();
  }
}

describe('broker remoting: send and pull', () => {
  it('sends with the v2 header and serves the record back by pull, with offsets and ids', async () => {
    const sent = await h.send('Orders', 'hello', { TAGS: 'TagA', KEYS: 'k1', UNIQ_KEY: 'U1' }, 2);
    expect(sent.code, sent.remark).toBe(ResponseCode.SUCCESS);
    expect(sent.extFields).toMatchObject({ queueId: '2', queueOffset: '0', transactionId: 'U1' });
    const id = decodeOffsetMessageId(sent.extFields['msgId']!);
    expect(`${id.storeHost.address}:${id.storeHost.port}`).toBe(h.brokerAddr);
    const res = await h.pull('Orders', 2, 0);
    expect(res.code).toBe(ResponseCode.SUCCESS);
    expect(res.extFields).toMatchObject({ nextBeginOffset: '1', minOffset: '0', maxOffset: '1', suggestWhichBrokerId: '0' });
    const [m] = decodeRecords(res.body!);
    expect(m!.body.toString()).toBe('hello');
    expect(m!.properties.get('TAGS')).toBe('TagA');
    expect(m!.properties.get('CLUSTER')).toBe('DefaultCluster');
    expect(m!.bornHost.address).toBe('127.0.0.1');
    const max = await h.call(RequestCode.GET_MAX_OFFSET, { topic: 'Orders', queueId: '2' });
    expect(max.extFields['offset']).toBe('1');
  });

  it('sends with the v1 header and as a batch (consecutive offsets, one id each)', async () => {
    const v1 = await h.call(
      RequestCode.SEND_MESSAGE,
      {
        producerGroup: 'pg',
        topic: 'T1',
        defaultTopic: 'TBW102',
        defaultTopicQueueNums: '4',
        queueId: '0',
        sysFlag: '0',
        bornTimestamp: '1',
        flag: '0',
        properties: encodeProperties({ TAGS: 'x' }),
      },
      Buffer.from('v1'),
    );
    expect(v1.code, v1.remark).toBe(ResponseCode.SUCCESS);
    const batch = encodeBatchBody([0, 1, 2].map((i) => ({ flag: 0, body: Buffer.from(`b${i}`), properties: encodeProperties({ KEYS: `key${i}` }) })));
    const res = await h.call(
      RequestCode.SEND_BATCH_MESSAGE,
      { a: 'pg', b: 'T1', c: 'TBW102', d: '4', e: '0', f: '0', g: '1', h: '0', i: '', m: 'true' },
      batch,
    );
    expect(res.code, res.remark).toBe(ResponseCode.SUCCESS);
    expect(res.extFields['queueOffset']).toBe('1');
    expect(res.extFields['msgId']!.split(',')).toHaveLength(3);
    const pulled = decodeRecords((await h.pull('T1', 0, 0)).body!);
    expect(pulled.map((m) => m.body.toString())).toEqual(['v1', 'b0', 'b1', 'b2']);
    expect(pulled.map((m) => m.queueOffset)).toEqual([0, 1, 2, 3]);
  });

  it('makes an auto-created topic routable through the NameServer promptly', async () => {
    expect((await routeOf('Fresh')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect((await h.send('Fresh', 'x')).code).toBe(ResponseCode.SUCCESS);
    let route: RemotingCommand | undefined;
    for (let i = 0; i < 100; i++) {
      route = await routeOf('Fresh');
      if (route.code === ResponseCode.SUCCESS) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(route!.code).toBe(ResponseCode.SUCCESS);
    expect(json(route!).queueDatas[0]).toMatchObject({ brokerName: 'broker-a', writeQueueNums: 4, perm: 6 });
  });

  it('holds a pull on an empty queue until a message arrives (long polling)', async () => {
    await h.send('LP', 'first', {}, 0);
    const held = h.pull('LP', 0, 1, { sysFlag: 2 | 4, suspend: 15_000 });
    let settled = false;
    void held.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    await h.send('LP', 'second', {}, 0);
    const res = await held;
    expect(res.code).toBe(ResponseCode.SUCCESS);
    expect(decodeRecords(res.body!)[0]!.body.toString()).toBe('second');
  });

  it('answers pull statuses: not found, offset moved, retry immediately on filtered-out tags', async () => {
    expect((await h.send('PS', 'a', { TAGS: 'A' }, 0)).code).toBe(0);
    expect((await h.pull('PS', 0, 1)).code).toBe(ResponseCode.PULL_NOT_FOUND);
    const moved = await h.pull('PS', 0, 9);
    expect(moved.code).toBe(ResponseCode.PULL_OFFSET_MOVED);
    expect(moved.extFields['nextBeginOffset']).toBe('1');
    const filtered = await h.pull('PS', 0, 0, { sub: 'B || C' });
    expect(filtered.code).toBe(ResponseCode.PULL_RETRY_IMMEDIATELY);
    expect(filtered.extFields['nextBeginOffset']).toBe('1');
  });
});

describe('broker remoting: errors are answered, never silent', () => {
  it('explains refusals in the remark', async () => {
    const illegal = await h.send('bad topic!', 'x');
    expect(illegal.code).toBe(ResponseCode.INVALID_PARAMETER);
    expect(illegal.remark).toMatch(/characters outside/);
    const system = await h.send('SCHEDULE_TOPIC_XXXX', 'x');
    expect(system.code).toBe(ResponseCode.NO_PERMISSION);
    const big = await h.send('Big', Buffer.alloc(70 * 1024));
    expect(big.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    const missing = await h.call(RequestCode.SEND_MESSAGE_V2, { a: 'pg' }, Buffer.from('x'));
    expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(missing.remark).toMatch(/SEND_MESSAGE_V2: .*"topic" is missing/);
    const unknown = await h.call(9999);
    expect(unknown.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    const tx = await h.call(RequestCode.END_TRANSACTION, {
      producerGroup: 'pg',
      tranStateTableOffset: '0',
      commitLogOffset: '0',
      commitOrRollback: '8',
      msgId: 'x',
    });
    expect(tx.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(tx.remark).toBe('Find prepared transaction message failed');
    const badTx = await h.call(RequestCode.END_TRANSACTION, {
      producerGroup: 'pg',
      tranStateTableOffset: '0',
      commitLogOffset: '0',
      commitOrRollback: '4',
      msgId: 'x',
    });
    expect(badTx.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(badTx.remark).toMatch(/commitOrRollback.*0 \(UNKNOW\), 8 \(COMMIT\) or 12 \(ROLLBACK\)/);
    const noTopic = await h.pull('Nope', 0, 0);
    expect(noTopic.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    const sql = await h.pull('Big', 0, 0, { sub: 'a > 1' });
    expect([ResponseCode.TOPIC_NOT_EXIST, ResponseCode.SUCCESS, ResponseCode.PULL_NOT_FOUND]).toContain(sql.code);
    const badBeat = await h.call(RequestCode.HEART_BEAT, {}, Buffer.from('{not json'));
    expect(badBeat.code).toBe(ResponseCode.INVALID_PARAMETER);
    expect(badBeat.remark).toMatch(/HeartbeatData is not JSON/);
    const badLock = await h.call(RequestCode.LOCK_BATCH_MQ, {}, Buffer.from('{"consumerGroup":"g"}'));
    expect(badLock.code).toBe(ResponseCode.INVALID_PARAMETER);
    // Still serving after all of that.
    expect((await h.send('Ok', 'y')).code).toBe(ResponseCode.SUCCESS);
  });

  it('closes a connection that sends a malformed frame, and only that one', async () => {
    const good = await h.send('Iso', 'before');
    expect(good.code).toBe(ResponseCode.SUCCESS);
    const [host, port] = h.brokerAddr.split(':');
    const sock = net.connect(Number(port), host);
    await new Promise((r) => sock.once('connect', r));
    const closed = new Promise((r) => sock.once('close', r));
    const bad = Buffer.alloc(8);
    bad.writeInt32BE(0x7fffffff, 0); // length over the 16 MiB cap
    sock.write(bad);
    await closed;
    const frame = encodeFrame(makeRequest(RequestCode.GET_MAX_OFFSET, { extFields: { topic: 'Iso', queueId: '0' } }));
    expect(frame.length).toBeGreaterThan(0);
    expect((await h.send('Iso', 'after')).code).toBe(ResponseCode.SUCCESS);
  });
});

describe('broker remoting: consumers', () => {
  function heartbeatBody(clientID: string, group: string, topic: string, sub = '*'): Buffer {
    return Buffer.from(
      JSON.stringify({
        clientID,
        producerDataSet: [],
        consumerDataSet: [
          {
            groupName: group,
            consumeType: 'CONSUME_PASSIVELY',
            messageModel: 'CLUSTERING',
            consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
            subscriptionDataSet: [{ topic, subString: sub, tagsSet: [], codeSet: [], subVersion: Date.now() }],
            unitMode: false,
          },
        ],
      }),
    );
  }

  it('registers consumers by heartbeat, lists them, and tells members when the group changes', async () => {
    const first = await h.call(RequestCode.HEART_BEAT, {}, heartbeatBody('c1', 'G1', 'Topic1'));
    expect(first.code).toBe(ResponseCode.SUCCESS);
    expect(json(await h.call(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'G1' })).consumerIdList).toEqual(['c1']);
    // The retry topic exists (and is routable) after the first heartbeat.
    expect(h.broker.topics.get('%RETRY%G1')).toBeDefined();
    const other = new RemotingClient();
    const notified = new Promise<string>((resolve) => {
      h.client.register(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, (req) => {
        resolve(req.extFields['consumerGroup']!);
        return null;
      });
    });
    try {
      const second = await other.invoke(h.brokerAddr, makeRequest(RequestCode.HEART_BEAT, { body: heartbeatBody('c2', 'G1', 'Topic1') }));
      expect(second.code).toBe(ResponseCode.SUCCESS);
      expect(await notified).toBe('G1');
      expect(json(await h.call(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'G1' })).consumerIdList.sort()).toEqual(['c1', 'c2']);
    } finally {
      other.close();
    }
    // The other connection closed: it leaves the group.
    for (let i = 0; i < 100 && h.broker.consumers.clientIds('G1').length > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(h.broker.consumers.clientIds('G1')).toEqual(['c1']);
    const none = await h.call(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'Nobody' });
    expect(none.code).toBe(ResponseCode.SYSTEM_ERROR);
  });

  it('filters by the heartbeat subscription when the pull carries none', async () => {
    await h.send('Sub', 'a', { TAGS: 'A' }, 0);
    await h.send('Sub', 'b', { TAGS: 'B' }, 0);
    const noSub = await h.pull('Sub', 0, 0, { group: 'G2', sysFlag: 0 });
    expect(noSub.code).toBe(ResponseCode.SUBSCRIPTION_NOT_EXIST);
    await h.call(RequestCode.HEART_BEAT, {}, heartbeatBody('c1', 'G2', 'Sub', 'B'));
    const res = await h.pull('Sub', 0, 0, { group: 'G2', sysFlag: 0 });
    expect(decodeRecords(res.body!).map((m) => m.body.toString())).toEqual(['b']);
  });

  it('stores and answers consumer offsets (incl. oneway updates and -1 ignored)', async () => {
    const nf = await h.call(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'G3', topic: 'Off', queueId: '0' });
    expect(nf.code).toBe(ResponseCode.QUERY_NOT_FOUND);
    await h.call(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'G3', topic: 'Off', queueId: '0', commitOffset: '5' });
    await h.client.oneway(
      h.brokerAddr,
      makeRequest(RequestCode.UPDATE_CONSUMER_OFFSET, { extFields: { consumerGroup: 'G3', topic: 'Off', queueId: '0', commitOffset: '-1' }, oneway: true }),
    );
    await h.client.oneway(
      h.brokerAddr,
      makeRequest(RequestCode.UPDATE_CONSUMER_OFFSET, { extFields: { consumerGroup: 'G3', topic: 'Off', queueId: '1', commitOffset: '7' }, oneway: true }),
    );
    let q1: RemotingCommand | undefined;
    for (let i = 0; i < 100; i++) {
      q1 = await h.call(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'G3', topic: 'Off', queueId: '1' });
      if (q1.code === ResponseCode.SUCCESS) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(q1!.extFields['offset']).toBe('7');
    const q0 = await h.call(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'G3', topic: 'Off', queueId: '0' });
    expect(q0.extFields['offset']).toBe('5');
  });

  it('locks queues for one client at a time', async () => {
    const mq = { topic: 'Ord', brokerName: 'broker-a', queueId: 0 };
    const lock = (clientId: string) =>
      h.call(RequestCode.LOCK_BATCH_MQ, {}, Buffer.from(JSON.stringify({ consumerGroup: 'G4', clientId, onlyThisBroker: true, mqSet: [mq] })));
    expect(json(await lock('a')).lockOKMQSet).toEqual([mq]);
    expect(json(await lock('b')).lockOKMQSet).toEqual([]);
    await h.call(RequestCode.UNLOCK_BATCH_MQ, {}, Buffer.from(JSON.stringify({ consumerGroup: 'G4', clientId: 'a', mqSet: [mq] })));
    expect(json(await lock('b')).lockOKMQSet).toEqual([mq]);
  });

  it('sends a failed message back: retried after its delay level, then dead-lettered', async () => {
    const sent = await h.send('Work', 'job', { TAGS: 'T' }, 0);
    const offset = decodeOffsetMessageId(sent.extFields['msgId']!).commitLogOffset;
    const back = await h.call(RequestCode.CONSUMER_SEND_MSG_BACK, {
      offset: String(offset),
      group: 'G5',
      delayLevel: '1',
      originMsgId: 'ORIG',
      maxReconsumeTimes: '1',
    });
    expect(back.code, back.remark).toBe(ResponseCode.SUCCESS);
    let retried: RemotingCommand | undefined;
    for (let i = 0; i < 200; i++) {
      retried = await h.pull('%RETRY%G5', 0, 0, { group: 'G5' });
      if (retried.code === ResponseCode.SUCCESS) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const [r] = decodeRecords(retried!.body!);
    expect(r!.reconsumeTimes).toBe(1);
    expect(r!.properties.get('RETRY_TOPIC')).toBe('Work');
    expect(r!.properties.get('ORIGIN_MESSAGE_ID')).toBe('ORIG');
    // Tried once already and max is 1: the next send-back dead-letters it.
    const again = await h.call(RequestCode.CONSUMER_SEND_MSG_BACK, {
      offset: String(r!.commitLogOffset),
      group: 'G5',
      delayLevel: '0',
      maxReconsumeTimes: '1',
    });
    expect(again.code).toBe(ResponseCode.SUCCESS);
    const dlq = await h.pull('%DLQ%G5', 0, 0, { group: 'ops' });
    expect(dlq.code).toBe(ResponseCode.SUCCESS);
    const [d] = decodeRecords(dlq.body!);
    expect(d!.body.toString()).toBe('job');
    expect(d!.properties.get('DLQ_ORIGIN_TOPIC')).toBe('Work');
  });
});

describe('broker remoting: lookup and admin', () => {
  it('finds messages by key and unique key, and by offset id', async () => {
    const sent = await h.send('Look', 'found me', { KEYS: 'order-1 order-2', UNIQ_KEY: 'UNIQ1' });
    const byKey = await h.call(RequestCode.QUERY_MESSAGE, {
      topic: 'Look',
      key: 'order-2',
      maxNum: '32',
      beginTimestamp: '0',
      endTimestamp: String(Date.now() + 1000),
    });
    expect(byKey.code).toBe(ResponseCode.SUCCESS);
    expect(decodeRecords(byKey.body!)[0]!.body.toString()).toBe('found me');
    const byUniq = await h.call(RequestCode.QUERY_MESSAGE, {
      topic: 'Look',
      key: 'UNIQ1',
      maxNum: '32',
      beginTimestamp: '0',
      endTimestamp: String(Date.now() + 1000),
      _UNIQUE_KEY_QUERY: 'true',
    });
    expect(byUniq.code).toBe(ResponseCode.SUCCESS);
    const none = await h.call(RequestCode.QUERY_MESSAGE, {
      topic: 'Look',
      key: 'nope',
      maxNum: '32',
      beginTimestamp: '0',
      endTimestamp: String(Date.now() + 1000),
    });
    expect(none.code).toBe(ResponseCode.QUERY_NOT_FOUND);
    const view = await h.call(RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(decodeOffsetMessageId(sent.extFields['msgId']!).commitLogOffset) });
    expect(decodeRecords(view.body!)[0]!.body.toString()).toBe('found me');
    const missing = await h.call(RequestCode.VIEW_MESSAGE_BY_ID, { offset: '99999999' });
    expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
  });

  it('takes every Java long in a header: time bounds clamp, exact values past 2^53 are refused with a precise remark', async () => {
    await h.send('Longs', 'by unique key', { UNIQ_KEY: 'UNIQ-LONG' });
    // The Java client's viewMessage(topic, msgId): begin = now - 3 days, end = Long.MAX_VALUE.
    const view = await h.call(RequestCode.QUERY_MESSAGE, {
      topic: 'Longs',
      key: 'UNIQ-LONG',
      maxNum: '32',
      beginTimestamp: String(Date.now() - 3 * 24 * 3600 * 1000),
      endTimestamp: '9223372036854775807',
      _UNIQUE_KEY_QUERY: 'true',
    });
    expect(view.code, view.remark).toBe(ResponseCode.SUCCESS);
    expect(decodeRecords(view.body!)[0]!.body.toString()).toBe('by unique key');
    const search = await h.call(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic: 'Longs', queueId: '0', timestamp: '-9223372036854775808' });
    expect(search.code, search.remark).toBe(ResponseCode.SUCCESS);
    const past = await h.call(RequestCode.QUERY_MESSAGE, { topic: 'Longs', key: 'k', maxNum: '1', beginTimestamp: '0', endTimestamp: '9223372036854775808' });
    expect(past.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(past.remark).toBe('QUERY_MESSAGE: header field "endTimestamp" is not a valid long: "9223372036854775808"');
    const commit = await h.call(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'g', topic: 'Longs', queueId: '0', commitOffset: '9223372036854775807' });
    expect(commit.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(commit.remark).toBe(
      'UPDATE_CONSUMER_OFFSET: header field "commitOffset" is "9223372036854775807": a long, but beyond 2^53-1 in magnitude (9007199254740991), which this field cannot carry exactly',
    );
  });

  it('answers CHECK_CLIENT_CONFIG as RocketMQ does with enablePropertyFilter on (our default)', async () => {
    const check = (body: unknown) => h.call(RequestCode.CHECK_CLIENT_CONFIG, {}, Buffer.from(JSON.stringify(body)));
    const sub = (expressionType: string | undefined, subString: string) => ({ topic: 'T', subString, expressionType, tagsSet: [], codeSet: [], subVersion: 1 });
    expect((await check({ clientId: 'c@1', group: 'G', subscriptionData: sub('TAG', 'a || b') })).code).toBe(ResponseCode.SUCCESS);
    expect((await check({ clientId: 'c@1', group: 'G', subscriptionData: sub(undefined, '*') })).code).toBe(ResponseCode.SUCCESS);
    expect((await check({ clientId: 'c@1', group: 'G' })).code).toBe(ResponseCode.SUCCESS);
    expect((await check(null)).code).toBe(ResponseCode.SUCCESS);
    expect((await check({ clientId: 'c@1', group: 'G', subscriptionData: sub('SQL92', 'a > 1') })).code).toBe(ResponseCode.SUCCESS);
    const bad = await check({ clientId: 'c@1', group: 'G', subscriptionData: sub('SQL92', 'a >') });
    expect(bad.code).toBe(ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    expect(bad.remark).toMatch(/column/);
    const other = await check({ clientId: 'c@1', group: 'G', subscriptionData: sub('tag', 'x') });
    expect([other.code, other.remark]).toEqual([ResponseCode.SYSTEM_ERROR, 'The broker does not support consumer to filter message by tag']);
    const garbage = await h.call(RequestCode.CHECK_CLIENT_CONFIG, {}, Buffer.from('{nope'));
    expect(garbage.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(garbage.remark).toMatch(/CheckClientRequestBody is not JSON/);
    expect((await h.call(RequestCode.CHECK_CLIENT_CONFIG)).code).toBe(ResponseCode.SYSTEM_ERROR);
  });

  it('creates topics, lists configs and reports stats', async () => {
    const created = await h.call(RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic: 'Made',
      defaultTopic: 'TBW102',
      readQueueNums: '2',
      writeQueueNums: '2',
      perm: '6',
      topicFilterType: 'SINGLE_TAG',
      order: 'false',
    });
    expect(created.code).toBe(ResponseCode.SUCCESS);
    const bad = await h.call(RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic: 'Made',
      defaultTopic: 'TBW102',
      readQueueNums: '5000',
      writeQueueNums: '2',
      perm: '6',
      topicFilterType: 'SINGLE_TAG',
      order: 'false',
    });
    expect(bad.code).toBe(ResponseCode.INVALID_PARAMETER);
    expect(json(await h.call(RequestCode.GET_ALL_TOPIC_CONFIG)).topicConfigTable['Made']).toMatchObject({ readQueueNums: 2, writeQueueNums: 2 });
    await h.send('Made', 'x', {}, 1);
    const stats = json(await h.call(RequestCode.GET_TOPIC_STATS_INFO, { topic: 'Made' })).offsetTable;
    expect(stats[JSON.stringify({ topic: 'Made', brokerName: 'broker-a', queueId: 1 })]).toMatchObject({ minOffset: 0, maxOffset: 1 });
    await h.call(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'G6', topic: 'Made', queueId: '1', commitOffset: '0' });
    const consume = json(await h.call(RequestCode.GET_CONSUME_STATS, { consumerGroup: 'G6', topic: 'Made' })).offsetTable;
    expect(consume[JSON.stringify({ topic: 'Made', brokerName: 'broker-a', queueId: 1 })]).toMatchObject({ brokerOffset: 1, consumerOffset: 0 });
    const info = json(await h.call(RequestCode.GET_BROKER_RUNTIME_INFO)).table;
    expect(Number(info.sendRequests)).toBeGreaterThan(0);
  });
});
