import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RemotingClient, RequestCode, ResponseCode, makeRequest, type RemotingCommand } from '@apogee/remoting';
import { encodeRegisterBrokerBody, javaCrc32 } from '../register-body.js';
import { FakeClock, topic, version } from '../test-fixtures.js';
import { NameServer } from './name-server.js';

const CLUSTER = 'DefaultCluster';
const MASTER = '10.0.0.1:10911';
const SLAVE = '10.0.0.2:10911';

let clock: FakeClock;
let ns: NameServer;
let addr: string;
const clients: RemotingClient[] = [];

function client(): RemotingClient {
  const c = new RemotingClient({ requestTimeoutMs: 3000 });
  clients.push(c);
  return c;
}

function call(c: RemotingClient, code: number, extFields: Record<string, string> = {}, body?: Buffer): Promise<RemotingCommand> {
  return c.invoke(addr, makeRequest(code, body === undefined ? { extFields } : { extFields, body }));
}

function registerHeader(brokerAddr: string, brokerId: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    brokerName: 'broker-a',
    brokerAddr,
    clusterName: CLUSTER,
    haServerAddr: brokerAddr.replace(/:\d+$/, ':10912'),
    brokerId: String(brokerId),
    ...extra,
  };
}

function registerBody(topics = [topic('TopicTest', 8), topic('Other')], counter = 1, compressed = false): Buffer {
  return encodeRegisterBrokerBody({ topicConfigs: topics, dataVersion: version(counter), filterServerList: [] }, compressed);
}

async function register(c: RemotingClient, brokerAddr: string, brokerId: number, body = registerBody()): Promise<RemotingCommand> {
  return call(c, RequestCode.REGISTER_BROKER, registerHeader(brokerAddr, brokerId, { bodyCrc32: String(javaCrc32(body)) }), body);
}

async function route(c: RemotingClient, name: string): Promise<RemotingCommand> {
  return call(c, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: name });
}

function json(res: RemotingCommand): any {
  expect(res.body).toBeDefined();
  return JSON.parse(res.body!.toString('utf8'));
}

beforeEach(async () => {
  clock = new FakeClock(1_700_000_000_000);
  ns = new NameServer({ clock: clock.read, scanIntervalMs: 60_000 });
  addr = await ns.start(0);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ns.close();
});

describe('NameServer routes', () => {
  it('registers a master and a slave and serves the topic route', async () => {
    const master = client();
    const slave = client();
    const m = await register(master, MASTER, 0);
    expect(m.code).toBe(ResponseCode.SUCCESS);
    expect(m.extFields['masterAddr']).toBeUndefined();
    const s = await register(slave, SLAVE, 1);
    expect(s.code).toBe(ResponseCode.SUCCESS);
    expect(s.extFields['masterAddr']).toBe(MASTER);
    expect(s.extFields['haServerAddr']).toBe('10.0.0.1:10912');

    const res = await route(client(), 'TopicTest');
    expect(res.code).toBe(ResponseCode.SUCCESS);
    const data = json(res);
    expect(data.brokerDatas).toHaveLength(1);
    expect(data.brokerDatas[0].brokerAddrs['0']).toBe(MASTER);
    expect(data.brokerDatas[0].brokerAddrs['1']).toBe(SLAVE);
    expect(data.brokerDatas[0].cluster).toBe(CLUSTER);
    expect(data.queueDatas).toEqual([{ brokerName: 'broker-a', perm: 6, readQueueNums: 8, topicSysFlag: 0, writeQueueNums: 8 }]);
  });

  it('accepts a compressed registration body', async () => {
    const body = registerBody([topic('Zipped', 2)], 1, true);
    const res = await call(client(), RequestCode.REGISTER_BROKER, registerHeader(MASTER, 0, { compressed: 'true', bodyCrc32: String(javaCrc32(body)) }), body);
    expect(res.code).toBe(ResponseCode.SUCCESS);
    expect(json(await route(client(), 'Zipped')).queueDatas[0].writeQueueNums).toBe(2);
  });

  it('answers TOPIC_NOT_EXIST for an unknown topic', async () => {
    const res = await route(client(), 'Nope');
    expect(res.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(res.remark).toContain('Nope');
  });

  it('lists topics (206), topics of a cluster (224) and deletes a topic route (216)', async () => {
    const c = client();
    expect((await register(c, MASTER, 0)).code).toBe(ResponseCode.SUCCESS);
    expect(json(await call(c, RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER)).topicList).toEqual(['Other', 'TopicTest']);
    expect(json(await call(c, RequestCode.GET_TOPICS_BY_CLUSTER, { cluster: CLUSTER })).topicList).toEqual(['Other', 'TopicTest']);
    expect(json(await call(c, RequestCode.GET_TOPICS_BY_CLUSTER, { cluster: 'nope' })).topicList).toEqual([]);
    expect((await call(c, RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'Other' })).code).toBe(ResponseCode.SUCCESS);
    expect((await route(c, 'Other')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(json(await call(c, RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER)).topicList).toEqual(['TopicTest']);
  });

  it('serves cluster info', async () => {
    const c = client();
    await register(c, MASTER, 0);
    const info = json(await call(c, RequestCode.GET_BROKER_CLUSTER_INFO));
    expect(info.clusterAddrTable).toEqual({ [CLUSTER]: ['broker-a'] });
    expect(info.brokerAddrTable['broker-a'].brokerAddrs).toEqual({ '0': MASTER });
  });

  it('unregisters a broker', async () => {
    const c = client();
    await register(c, MASTER, 0);
    const res = await call(c, RequestCode.UNREGISTER_BROKER, {
      brokerName: 'broker-a',
      brokerAddr: MASTER,
      clusterName: CLUSTER,
      brokerId: '0',
    });
    expect(res.code).toBe(ResponseCode.SUCCESS);
    expect((await route(c, 'TopicTest')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(json(await call(c, RequestCode.GET_BROKER_CLUSTER_INFO)).brokerAddrTable).toEqual({});
  });

  it('drops a broker whose connection closes', async () => {
    const master = client();
    const slave = client();
    await register(master, MASTER, 0);
    await register(slave, SLAVE, 1);
    const reader = client();
    slave.close();
    await vi.waitFor(async () => {
      const data = json(await route(reader, 'TopicTest'));
      expect(data.brokerDatas[0].brokerAddrs).toEqual({ '0': MASTER });
    });
    master.close();
    await vi.waitFor(async () => {
      expect((await route(reader, 'TopicTest')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    });
  });

  it('expires silent brokers on the scan (injected clock)', async () => {
    const c = client();
    await register(c, MASTER, 0);
    clock.advance(60_000);
    expect(ns.scanExpired()).toEqual([]);
    // A heartbeat refreshes the broker.
    const hb = await call(c, RequestCode.BROKER_HEARTBEAT, { clusterName: CLUSTER, brokerAddr: MASTER, brokerName: 'broker-a' });
    expect(hb.code).toBe(ResponseCode.SUCCESS);
    clock.advance(100_000);
    expect(ns.scanExpired()).toEqual([]);
    clock.advance(20_001);
    expect(ns.scanExpired().map((m) => m.brokerAddr)).toEqual([MASTER]);
    expect((await route(c, 'TopicTest')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  });

  it('runs the expiry scan on its interval', async () => {
    await ns.close();
    ns = new NameServer({ clock: clock.read, scanIntervalMs: 5 });
    addr = await ns.start(0);
    const c = client();
    await register(c, MASTER, 0);
    expect((await route(c, 'TopicTest')).code).toBe(ResponseCode.SUCCESS);
    clock.advance(120_001);
    await vi.waitFor(async () => {
      expect((await route(c, 'TopicTest')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    });
  });

  it('answers QUERY_DATA_VERSION with changed and the stored version', async () => {
    const c = client();
    await register(c, MASTER, 0, registerBody(undefined, 7));
    const header = { brokerName: 'broker-a', brokerAddr: MASTER, clusterName: CLUSTER, brokerId: '0' };
    const same = await call(c, RequestCode.QUERY_DATA_VERSION, header, Buffer.from(JSON.stringify(version(7))));
    expect(same.code).toBe(ResponseCode.SUCCESS);
    expect(same.extFields['changed']).toBe('false');
    expect(json(same).counter).toBe(7);
    const other = await call(c, RequestCode.QUERY_DATA_VERSION, header, Buffer.from(JSON.stringify(version(8))));
    expect(other.extFields['changed']).toBe('true');
  });

  it('puts orderTopicConf from KV into routes', async () => {
    const c = client();
    await register(c, MASTER, 0);
    await call(c, RequestCode.PUT_KV_CONFIG, { namespace: 'ORDER_TOPIC_CONFIG', key: 'TopicTest', value: 'broker-a:8' });
    expect(json(await route(c, 'TopicTest')).orderTopicConf).toBe('broker-a:8');
  });
});

describe('NameServer KV config', () => {
  it('lists a namespace (219), QUERY_NOT_FOUND for an unknown one', async () => {
    const c = client();
    await call(c, RequestCode.PUT_KV_CONFIG, { namespace: 'LMQ', key: 'a', value: 'a/+,a/#' });
    await call(c, RequestCode.PUT_KV_CONFIG, { namespace: 'LMQ', key: 'b', value: 'b/#' });
    expect(json(await call(c, RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'LMQ' })).table).toEqual({ a: 'a/+,a/#', b: 'b/#' });
    expect((await call(c, RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'none' })).code).toBe(ResponseCode.QUERY_NOT_FOUND);
  });

  it('puts, gets and deletes', async () => {
    const c = client();
    const key = { namespace: 'ns', key: 'k' };
    expect((await call(c, RequestCode.PUT_KV_CONFIG, { ...key, value: 'v1' })).code).toBe(ResponseCode.SUCCESS);
    const got = await call(c, RequestCode.GET_KV_CONFIG, key);
    expect(got.code).toBe(ResponseCode.SUCCESS);
    expect(got.extFields['value']).toBe('v1');
    expect((await call(c, RequestCode.DELETE_KV_CONFIG, key)).code).toBe(ResponseCode.SUCCESS);
    const gone = await call(c, RequestCode.GET_KV_CONFIG, key);
    expect(gone.code).toBe(ResponseCode.QUERY_NOT_FOUND);
    expect(gone.remark).toContain('k');
  });

  it('persists to kvFile across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'apogee-ns-'));
    try {
      const file = join(dir, 'kvConfig.json');
      await ns.close();
      ns = new NameServer({ kvFile: file });
      addr = await ns.start(0);
      await call(client(), RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k', value: 'kept' });
      await ns.close();
      ns = new NameServer({ kvFile: file });
      addr = await ns.start(0);
      expect((await call(client(), RequestCode.GET_KV_CONFIG, { namespace: 'ns', key: 'k' })).extFields['value']).toBe('kept');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('NameServer bad requests', () => {
  it('answers errors with remarks and keeps serving', async () => {
    const bad = client();
    const good = client();
    await register(good, MASTER, 0);

    const noTopic = await call(bad, RequestCode.GET_ROUTEINFO_BY_TOPIC);
    expect(noTopic.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(noTopic.remark).toMatch(/topic/);

    const header = registerHeader(SLAVE, 1);
    const { brokerAddr: _omit, ...noAddr } = header;
    const missing = await call(bad, RequestCode.REGISTER_BROKER, noAddr, registerBody());
    expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(missing.remark).toMatch(/brokerAddr/);

    const badId = await call(bad, RequestCode.REGISTER_BROKER, { ...header, brokerId: 'one' }, registerBody());
    expect(badId.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(badId.remark).toMatch(/brokerId/);

    const garbage = await call(bad, RequestCode.REGISTER_BROKER, header, Buffer.from('{not json'));
    expect(garbage.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(garbage.remark).toMatch(/JSON/);

    const badZip = await call(bad, RequestCode.REGISTER_BROKER, { ...header, compressed: 'true' }, Buffer.from('nope'));
    expect(badZip.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(badZip.remark).toMatch(/inflate/);

    const truncated = await call(bad, RequestCode.REGISTER_BROKER, { ...header, compressed: 'true' }, deflateSync(Buffer.from([0, 0, 0, 9])));
    expect(truncated.code).toBe(ResponseCode.SYSTEM_ERROR);

    const body = registerBody();
    const crc = await call(bad, RequestCode.REGISTER_BROKER, { ...header, bodyCrc32: String((javaCrc32(body) + 1) & 0x7fffffff) }, body);
    expect(crc.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(crc.remark).toMatch(/crc32 not match/);

    const noValue = await call(bad, RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k' });
    expect(noValue.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(noValue.remark).toMatch(/value/);

    const badVersion = await call(
      bad,
      RequestCode.QUERY_DATA_VERSION,
      { brokerName: 'broker-a', brokerAddr: MASTER, clusterName: CLUSTER, brokerId: '0' },
      Buffer.from('[]'),
    );
    expect(badVersion.code).toBe(ResponseCode.SYSTEM_ERROR);

    const unknown = await call(bad, 99_999);
    expect(unknown.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);

    // Nothing bad was registered, and both connections still work.
    const data = json(await route(bad, 'TopicTest'));
    expect(data.brokerDatas[0].brokerAddrs).toEqual({ '0': MASTER });
    expect((await route(good, 'TopicTest')).code).toBe(ResponseCode.SUCCESS);
  });

  it('rejects a registration that loses to a newer stateVersion', async () => {
    const c = client();
    await register(c, MASTER, 0, encodeRegisterBrokerBody({ topicConfigs: [topic('TopicTest')], dataVersion: version(1, 5), filterServerList: [] }));
    const other = encodeRegisterBrokerBody({ topicConfigs: [topic('TopicTest')], dataVersion: version(1, 2), filterServerList: [] });
    const res = await call(client(), RequestCode.REGISTER_BROKER, registerHeader('10.0.0.9:10911', 0), other);
    expect(res.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(res.remark).toMatch(/rejected/);
    expect(json(await route(c, 'TopicTest')).brokerDatas[0].brokerAddrs['0']).toBe(MASTER);
  });
});

describe('NameServer refusal log', () => {
  it('warns about refused requests naming the client, the request and the reason; a missing route is only debug', async () => {
    const warned: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const debugged: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const logged = new NameServer({
      logger: {
        warn: (obj, msg) => warned.push({ obj: obj as Record<string, unknown>, msg }),
        debug: (obj, msg) => debugged.push({ obj: obj as Record<string, unknown>, msg }),
      },
    });
    const at = await logged.start(0);
    const c = client();
    try {
      expect((await c.invoke(at, makeRequest(99_999))).code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
      expect((await c.invoke(at, makeRequest(RequestCode.REGISTER_BROKER, { extFields: { brokerName: 'b', clusterName: 'C' } }))).code).toBe(
        ResponseCode.SYSTEM_ERROR,
      );
      expect((await c.invoke(at, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'Nowhere' } }))).code).toBe(
        ResponseCode.TOPIC_NOT_EXIST,
      );
      expect(warned).toEqual([
        {
          msg: 'namesrv: request refused',
          obj: {
            remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
            request: 'UNKNOWN(99999)',
            requestCode: 99999,
            response: 'REQUEST_CODE_NOT_SUPPORTED',
            remark: 'request code 99999 not supported',
          },
        },
        {
          msg: 'namesrv: request refused',
          obj: expect.objectContaining({
            request: 'REGISTER_BROKER',
            brokerName: 'b',
            clusterName: 'C',
            response: 'SYSTEM_ERROR',
            remark: expect.stringMatching(/^REGISTER_BROKER: .*"brokerAddr" is missing/),
          }),
        },
      ]);
      expect(debugged).toEqual([{ msg: expect.stringContaining('expected'), obj: expect.objectContaining({ topic: 'Nowhere', response: 'TOPIC_NOT_EXIST' }) }]);
    } finally {
      await logged.close();
    }
  });
});
