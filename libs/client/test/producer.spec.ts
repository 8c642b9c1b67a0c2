import { PropertyKey, SysFlag, decodeBatchBody, decodeProperties, javaStringHashCode } from '@apogee/message';
import { RequestCode, ResponseCode, responseTo } from '@apogee/remoting';
import { afterEach, describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import { ClientError, Producer } from '../src/index.js';
import { type FakeBroker, type FakeNameServer, startCluster, waitFor } from './fake-cluster.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  brokerNames = ['broker-a'],
  producerOpts: Partial<ConstructorParameters<typeof Producer>[0]> = {},
): Promise<{ ns: FakeNameServer; brokers: FakeBroker[]; producer: Producer }> {
  const cluster = await startCluster(brokerNames);
  cleanups.push(cluster.close);
  const producer = new Producer({ nameServer: cluster.ns.addr, group: 'PG', ...producerOpts });
  await producer.start();
  cleanups.push(() => producer.shutdown());
  return { ns: cluster.ns, brokers: cluster.brokers, producer };
}

describe('Producer on the wire', () => {
  it('sends SEND_MESSAGE_V2 with headers a–n, client-side UNIQ_KEY and TAGS/KEYS/WAIT/DELAY properties', async () => {
    const { ns, brokers, producer } = await setup();
    ns.topics.set('T', { brokers, queues: 4 });
    const res = await producer.send({ topic: 'T', body: 'hello', tags: 'tagA', keys: ['k1', 'k2'], properties: { custom: 'v' }, delayLevel: 3 });
    const [req] = brokers[0]!.requests(RequestCode.SEND_MESSAGE_V2);
    expect(req).toBeDefined();
    const h = req!.extFields;
    expect(h['a']).toBe('PG');
    expect(h['b']).toBe('T');
    expect(h['c']).toBe('TBW102');
    expect(h['d']).toBe('4');
    expect(Number(h['e'])).toBeGreaterThanOrEqual(0);
    expect(Number(h['e'])).toBeLessThan(4);
    expect(h['f']).toBe('0');
    expect(Number(h['g'])).toBeGreaterThan(0);
    expect(h['h']).toBe('0');
    expect(h['j']).toBe('0');
    expect(h['k']).toBe('false');
    expect(h['m']).toBe('false');
    expect(h['n']).toBe('broker-a');
    const props = decodeProperties(h['i']!);
    expect(props.get(PropertyKey.TAGS)).toBe('tagA');
    expect(props.get(PropertyKey.KEYS)).toBe('k1 k2');
    expect(props.get(PropertyKey.WAIT_STORE_MSG_OK)).toBe('true');
    expect(props.get(PropertyKey.DELAY_TIME_LEVEL)).toBe('3');
    expect(props.get('custom')).toBe('v');
    const uniq = props.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX)!;
    expect(uniq).toMatch(/^[0-9A-F]{32}$/);
    expect(req!.body!.toString()).toBe('hello');
    expect(res.status).toBe('SEND_OK');
    expect(res.msgId).toBe(uniq);
    expect(res.offsetMsgId).toMatch(/^[0-9A-F]{32}$/);
    expect(res.messageQueue).toEqual({ topic: 'T', brokerName: 'broker-a', queueId: Number(h['e']) });
    expect(res.queueOffset).toBe(0);
  });

  it('zlib-compresses bodies over the threshold and sets the COMPRESSED sysFlag bit', async () => {
    const { ns, brokers, producer } = await setup(['broker-a'], { compressOverBytes: 100 });
    ns.topics.set('T', { brokers });
    const body = Buffer.alloc(1000, 'x');
    await producer.send({ topic: 'T', body });
    await producer.send({ topic: 'T', body: 'small' });
    const [big, small] = brokers[0]!.requests(RequestCode.SEND_MESSAGE_V2);
    expect(Number(big!.extFields['f']) & SysFlag.COMPRESSED).toBe(SysFlag.COMPRESSED);
    expect(zlib.inflateSync(big!.body!)).toEqual(body);
    expect(Number(small!.extFields['f']) & SysFlag.COMPRESSED).toBe(0);
  });

  it('pipelines un-awaited sends on one connection', async () => {
    const { ns, brokers, producer } = await setup();
    ns.topics.set('T', { brokers });
    const b = brokers[0]!;
    // Answer nothing until 20 requests are in: a client that waited for each answer would hang here.
    const held: Array<() => void> = [];
    b.override(RequestCode.SEND_MESSAGE_V2, (req, conn) => {
      return new Promise((resolve) => {
        held.push(() => resolve(b.handle(req, conn) as ReturnType<typeof responseTo>));
        if (held.length === 20) for (const r of held.splice(0)) r();
      });
    });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send({ topic: 'T', body: `m${i}` })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill('SEND_OK'));
    expect(new Set(results.map((r) => r.msgId)).size).toBe(20);
    expect(b.server.connections.size).toBe(1);
  });

  it('retries a failed send on another broker and reports the broker that stored it', async () => {
    const { ns, brokers, producer } = await setup(['broker-a', 'broker-b']);
    ns.topics.set('T', { brokers, queues: 2 });
    const [a, b] = brokers as [FakeBroker, FakeBroker];
    a.override(RequestCode.SEND_MESSAGE_V2, (req) => responseTo(req, ResponseCode.SERVICE_NOT_AVAILABLE, 'store not available'));
    for (let i = 0; i < 6; i++) {
      const res = await producer.send({ topic: 'T', body: `m${i}` });
      expect(res.messageQueue.brokerName).toBe('broker-b');
    }
    // Every send that went to broker-a first was retried exactly once, on broker-b.
    expect(b.requests(RequestCode.SEND_MESSAGE_V2).length).toBe(6);
    const onA = a.requests(RequestCode.SEND_MESSAGE_V2).map((r) => decodeProperties(r.extFields['i']!).get('UNIQ_KEY'));
    expect(onA.length).toBeGreaterThan(0);
    // No send tried broker-a twice: the retry went to the other broker at once.
    expect(new Set(onA).size).toBe(onA.length);
  });

  it('gives up after 1 + retryTimes attempts with the broker code and remark', async () => {
    const { ns, brokers, producer } = await setup(['broker-a', 'broker-b'], { retryTimes: 2 });
    ns.topics.set('T', { brokers });
    for (const b of brokers) b.override(RequestCode.SEND_MESSAGE_V2, (req) => responseTo(req, ResponseCode.SYSTEM_BUSY, `${b.name} is busy`));
    const err = await producer.send({ topic: 'T', body: 'x' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).responseCode).toBe(ResponseCode.SYSTEM_BUSY);
    expect((err as ClientError).remark).toMatch(/is busy/);
    const total = brokers.reduce((n, b) => n + b.requests(RequestCode.SEND_MESSAGE_V2).length, 0);
    expect(total).toBe(3);
    // The first retry went to the other broker.
    expect(brokers.every((b) => b.requests(RequestCode.SEND_MESSAGE_V2).length >= 1)).toBe(true);
  });

  it('does not retry non-retryable codes', async () => {
    const { ns, brokers, producer } = await setup(['broker-a', 'broker-b']);
    ns.topics.set('T', { brokers });
    for (const b of brokers) b.override(RequestCode.SEND_MESSAGE_V2, (req) => responseTo(req, ResponseCode.MESSAGE_ILLEGAL, 'too big'));
    await expect(producer.send({ topic: 'T', body: 'x' })).rejects.toMatchObject({ responseCode: ResponseCode.MESSAGE_ILLEGAL, remark: 'too big' });
    expect(brokers.reduce((n, b) => n + b.requests(RequestCode.SEND_MESSAGE_V2).length, 0)).toBe(1);
  });

  it('retries after a connection error on another broker', async () => {
    const { ns, brokers, producer } = await setup(['broker-a', 'broker-b']);
    ns.topics.set('T', { brokers });
    await brokers[0]!.close();
    for (let i = 0; i < 4; i++) expect((await producer.send({ topic: 'T', body: 'x' })).messageQueue.brokerName).toBe('broker-b');
  });

  it('ordered sends: the sharding key picks |hashCode| mod n, and a failure is not retried elsewhere', async () => {
    const { ns, brokers, producer } = await setup(['broker-a', 'broker-b']);
    ns.topics.set('T', { brokers, queues: 4 });
    for (const key of ['order-1', 'order-2', 'zzz']) {
      const expected = Math.abs(javaStringHashCode(key) % 8);
      for (let i = 0; i < 3; i++) {
        const r = await producer.send({ topic: 'T', body: key }, { shardingKey: key });
        const index = (r.messageQueue.brokerName === 'broker-a' ? 0 : 4) + r.messageQueue.queueId;
        expect(index).toBe(expected);
      }
    }
    const picked = await producer.send({ topic: 'T', body: 'sel' }, { selector: (qs) => qs[5]! });
    expect(picked.messageQueue).toEqual({ topic: 'T', brokerName: 'broker-b', queueId: 1 });
    for (const b of brokers) b.override(RequestCode.SEND_MESSAGE_V2, (req) => responseTo(req, ResponseCode.SERVICE_NOT_AVAILABLE, 'down'));
    const before = brokers.reduce((n, b) => n + b.requests(RequestCode.SEND_MESSAGE_V2).length, 0);
    await expect(producer.send({ topic: 'T', body: 'o' }, { shardingKey: 'order-1' })).rejects.toMatchObject({
      responseCode: ResponseCode.SERVICE_NOT_AVAILABLE,
    });
    expect(brokers.reduce((n, b) => n + b.requests(RequestCode.SEND_MESSAGE_V2).length, 0) - before).toBe(1);
  });

  it('unknown topic: sends through the TBW102 route so the broker can auto-create; errors clearly without one', async () => {
    const { ns, brokers, producer } = await setup();
    await expect(producer.send({ topic: 'NEW_TOPIC', body: 'x' })).rejects.toMatchObject({
      code: 'APG_CLIENT_NO_ROUTE',
      message: expect.stringMatching(/NEW_TOPIC.*TBW102/),
    });
    ns.topics.set('TBW102', { brokers, queues: 8, perm: 7 });
    const res = await producer.send({ topic: 'NEW_TOPIC2', body: 'x' });
    expect(res.status).toBe('SEND_OK');
    const [req] = brokers[0]!.requests(RequestCode.SEND_MESSAGE_V2);
    expect(req!.extFields['b']).toBe('NEW_TOPIC2');
    expect(req!.extFields['c']).toBe('TBW102');
    // Queue counts of the default route are capped at defaultTopicQueueNums (4).
    expect(Number(req!.extFields['e'])).toBeLessThan(4);
    expect(ns.routeRequests('NEW_TOPIC2').length).toBeGreaterThanOrEqual(1);
  });

  it('refreshes the route after a failure', async () => {
    const { ns, brokers, producer } = await setup(['broker-a', 'broker-b']);
    ns.topics.set('T', { brokers: [brokers[0]!] });
    await producer.send({ topic: 'T', body: 'x' });
    expect(ns.routeRequests('T').length).toBe(1);
    // broker-a goes away and the NameServer now routes T to broker-b.
    brokers[0]!.override(RequestCode.SEND_MESSAGE_V2, (req) => responseTo(req, ResponseCode.TOPIC_NOT_EXIST, 'moved'));
    ns.topics.set('T', { brokers: [brokers[1]!] });
    const res = await producer.send({ topic: 'T', body: 'y' });
    expect(res.messageQueue.brokerName).toBe('broker-b');
    expect(ns.routeRequests('T').length).toBe(2);
  });

  it('sendBatch: SEND_BATCH_MESSAGE with m=true and the batch body of every message', async () => {
    const { ns, brokers, producer } = await setup();
    ns.topics.set('T', { brokers });
    const res = await producer.sendBatch([
      { topic: 'T', body: 'one', tags: 'a' },
      { topic: 'T', body: 'two', keys: 'k' },
    ]);
    const [req] = brokers[0]!.requests(RequestCode.SEND_BATCH_MESSAGE);
    expect(req!.extFields['m']).toBe('true');
    expect(decodeProperties(req!.extFields['i']!).get('WAIT')).toBe('true');
    const items = decodeBatchBody(req!.body!);
    expect(items.map((i) => i.body.toString())).toEqual(['one', 'two']);
    const uniqs = items.map((i) => decodeProperties(i.properties).get('UNIQ_KEY'));
    expect(decodeProperties(items[0]!.properties).get('TAGS')).toBe('a');
    expect(decodeProperties(items[1]!.properties).get('KEYS')).toBe('k');
    expect(res.msgId).toBe(uniqs.join(','));
    await expect(
      producer.sendBatch([
        { topic: 'T', body: 'a' },
        { topic: 'U', body: 'b' },
      ]),
    ).rejects.toBeInstanceOf(ClientError);
  });

  it('sendOneway sends a oneway request', async () => {
    const { ns, brokers, producer } = await setup();
    ns.topics.set('T', { brokers });
    await producer.sendOneway({ topic: 'T', body: 'fire' });
    await waitFor(() => brokers[0]!.requests(RequestCode.SEND_MESSAGE_V2).length === 1, 'oneway send');
    expect(brokers[0]!.requests(RequestCode.SEND_MESSAGE_V2)[0]!.flag & 2).toBe(2);
  });

  it('heartbeats with its producer group and unregisters on shutdown', async () => {
    const { ns, brokers, producer } = await setup(['broker-a'], { heartbeatMs: 20 });
    ns.topics.set('T', { brokers });
    await producer.send({ topic: 'T', body: 'x' });
    await waitFor(() => brokers[0]!.requests(RequestCode.HEART_BEAT).length >= 2, 'heartbeats');
    const hb = JSON.parse(brokers[0]!.requests(RequestCode.HEART_BEAT)[0]!.body!.toString());
    expect(hb.clientID).toBe(producer.clientId);
    expect(hb.producerDataSet).toEqual([{ groupName: 'PG' }]);
    await producer.shutdown();
    const [un] = brokers[0]!.requests(RequestCode.UNREGISTER_CLIENT);
    expect(un!.extFields).toMatchObject({ clientID: producer.clientId, producerGroup: 'PG' });
    await expect(producer.send({ topic: 'T', body: 'late' })).rejects.toMatchObject({ code: 'APG_CLIENT_STATE' });
  });

  it('rejects bad messages before touching the network', async () => {
    const { brokers, producer } = await setup();
    await expect(producer.send({ topic: 'bad topic', body: 'x' })).rejects.toMatchObject({ code: 'APG_CLIENT_ILLEGAL_ARGUMENT' });
    await expect(producer.send({ topic: 'T', body: '' })).rejects.toMatchObject({ code: 'APG_CLIENT_ILLEGAL_ARGUMENT' });
    expect(brokers[0]!.log.length).toBe(0);
  });
});
