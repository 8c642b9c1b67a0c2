/**
 * One set of users and rules for every endpoint (issue 13 item 2), against a real apps/server
 * process with `allowAnonymous: false`: RocketMQ ACL 1.0 on the remoting port and the NameServer
 * (libs/client, ali-ons, hand-signed requests), and the same rules deciding MQTT, AMQP and
 * remoting access to the same data — LMQs, AMQP queues, dead-letter and retry topics included.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Admin, Producer, PullConsumer } from '@apogee/client';
import { hashPassword } from '@apogee/broker';
import { RequestCode, ResponseCode } from '@apogee/remoting';
import mqtt from 'mqtt';
import type * as Rhea from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignedRemoting, aclRemark } from './acl-helpers.js';
import { eventually } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const require = createRequire(import.meta.url);
const rhea = require('rhea') as typeof Rhea;
const Ons = require('ali-ons') as any;
const httpclient = { request: () => Promise.reject(new Error('ali-ons must not use HTTP here')) };

const ALICE = { accessKey: 'alice-ak', secretKey: 'alice-secret' };
const BOB = { accessKey: 'bob-ak-1', secretKey: 'bob-secret' };
const MALLORY = { accessKey: 'mallory-ak', secretKey: 'mallory-secret' };
const ADMIN = { accessKey: 'admin-ak-1', secretKey: 'admin-secret' };

let server: ServerProcess;
let dataDir: string;
const remoting: Record<'alice' | 'bob' | 'mallory' | 'admin' | 'anonymous', SignedRemoting> = {} as never;

beforeAll(async () => {
  dataDir = tempDataDir('apg-acl-');
  const own = (u: string) => ({ allow: [`${u}/#`] });
  const cfg = {
    broker: { messageDelayLevel: '100ms 200ms 300ms' },
    auth: {
      allowAnonymous: false,
      users: [
        {
          username: 'alice',
          password: await hashPassword('alice-pw'),
          ...ALICE,
          publish: own('alice'),
          subscribe: own('alice'),
          groups: { allow: ['alice-g', 'alice-ons'] },
        },
        { username: 'bob', password: await hashPassword('bob-pw'), ...BOB, publish: own('bob'), subscribe: own('bob'), groups: { allow: ['bob-g'] } },
        {
          username: 'mallory',
          password: await hashPassword('mallory-pw'),
          ...MALLORY,
          publish: { allow: ['#'], deny: ['alice/#', 'bob/#'] },
          subscribe: { allow: ['#'], deny: ['alice/#', 'bob/#'] },
          groups: { allow: ['mallory-g'] },
        },
        { username: 'admin', ...ADMIN, admin: true },
      ],
    },
  };
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'apogee.json');
  fs.writeFileSync(file, JSON.stringify(cfg));
  server = await ServerProcess.start(path.join(dataDir, 'data'), undefined, ['--config', file]);
  remoting.alice = new SignedRemoting(ALICE);
  remoting.bob = new SignedRemoting(BOB);
  remoting.mallory = new SignedRemoting(MALLORY);
  remoting.admin = new SignedRemoting(ADMIN);
  remoting.anonymous = new SignedRemoting();
  for (const t of ['alice', 'bob', 'news']) await remoting.admin.createTopic(server.brokerAddr, server.namesrvAddr, t, 4);
});

afterAll(async () => {
  for (const r of Object.values(remoting)) r?.close();
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The bodies of queues 0–3 of a topic, pulled by `who` with `group`; or the refusal. */
async function pullAll(who: SignedRemoting, topic: string, group: string, queues = 4): Promise<{ refused?: string; bodies: string }> {
  let bodies = '';
  for (let q = 0; q < queues; q++) {
    const res = await who.pull(server.brokerAddr, topic, group, q);
    if (res.code === ResponseCode.SYSTEM_ERROR) return { refused: res.remark ?? '', bodies };
    if (res.code === ResponseCode.SUCCESS && res.body) bodies += res.body.toString('latin1');
  }
  return { bodies };
}

/** pullAll until the bodies hold `text` (the consume queue is built just after the store write is acknowledged). */
async function pullUntil(who: SignedRemoting, topic: string, group: string, text: string, queues = 4): Promise<{ refused?: string; bodies: string }> {
  for (let i = 0; ; i++) {
    const r = await pullAll(who, topic, group, queues);
    if (r.refused !== undefined || r.bodies.includes(text) || i >= 100) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** An AMQP connection: SASL PLAIN with a password, SASL ANONYMOUS with only a username, no SASL at all without either. */
function amqpConnect(username?: string, password?: string): Promise<Rhea.Connection> {
  const c = rhea.create_container({ id: `acl-${username ?? 'anonymous'}-${Math.random().toString(36).slice(2)}` });
  const login = username === undefined ? {} : password === undefined ? { username } : { username, password };
  const conn = c.connect({ host: '127.0.0.1', port: server.amqpPort, ...login, reconnect: false } as never);
  return new Promise((resolve, reject) => {
    conn.once('connection_open', () => resolve(conn));
    conn.once('connection_error', reject);
    conn.once('disconnected', (ctx) => reject(ctx.error ?? new Error('disconnected')));
  });
}

/** The error condition an attach of a receiving link is refused with. */
function refusedReceiver(c: Rhea.Connection, address: string): Promise<string> {
  const r = c.open_receiver({ source: { address }, credit_window: 0 });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`attach to ${address} was not refused`)), 10_000);
    r.once('receiver_error', (ctx) => {
      clearTimeout(t);
      resolve(String((ctx.receiver.error as { condition?: string } | undefined)?.condition));
    });
  });
}

describe('the NameServer with anonymous access off', () => {
  it('refuses unsigned and badly signed route and topic-list queries; the broker still registers', async () => {
    for (const code of [RequestCode.GET_ROUTEINFO_BY_TOPIC, RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER]) {
      const res = await remoting.anonymous.request(server.namesrvAddr, code, { topic: 'alice' });
      expect(res.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(res.remark).toBe(aclRemark('No accessKey is configured'));
    }
    const wrong = new SignedRemoting({ accessKey: ALICE.accessKey, secretKey: 'not-the-secret' });
    try {
      const res = await wrong.request(server.namesrvAddr, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'alice' });
      expect(res.remark).toBe(aclRemark('Check signature failed for accessKey=alice-ak'));
    } finally {
      wrong.close();
    }
    const unknown = new SignedRemoting({ accessKey: 'nobody-ak', secretKey: 'whatever' });
    try {
      expect((await unknown.request(server.namesrvAddr, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'alice' })).remark).toBe(
        aclRemark('No acl config for nobody-ak'),
      );
    } finally {
      unknown.close();
    }
    // The topics created in beforeAll are routed: the embedded broker's signed registrations were accepted.
    const route = await remoting.alice.request(server.namesrvAddr, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'news' });
    expect(route.code).toBe(ResponseCode.SUCCESS);
    expect(server.output).not.toContain('NameServer refused registration');
  });
});

describe('anonymous access is off on every port', () => {
  it('MQTT over TCP and WebSocket, AMQP SASL ANONYMOUS, the broker and the NameServer refuse clients without credentials', async () => {
    await expect(mqtt.connectAsync(server.mqttUrl, { reconnectPeriod: 0 })).rejects.toThrow(/Not authorized/i);
    await expect(mqtt.connectAsync(server.mqttWsUrl, { reconnectPeriod: 0 })).rejects.toThrow(/Not authorized/i);
    await expect(amqpConnect()).rejects.toBeDefined();
    await expect(amqpConnect('anonymous-user')).rejects.toBeDefined();
    // The broker port on its own (a client would be stopped at the NameServer first).
    const heartbeat = Buffer.from(JSON.stringify({ clientID: 'anon@1', producerDataSet: [], consumerDataSet: [] }));
    const answers = [
      await remoting.anonymous.send(server.brokerAddr, 'news', 'anonymous'),
      await remoting.anonymous.pull(server.brokerAddr, 'news', 'anon-g'),
      await remoting.anonymous.request(server.brokerAddr, RequestCode.HEART_BEAT, {}, heartbeat),
      await remoting.anonymous.request(server.brokerAddr, RequestCode.GET_BROKER_RUNTIME_INFO, {}),
      await remoting.anonymous.request(server.namesrvAddr, RequestCode.GET_BROKER_CLUSTER_INFO, {}),
    ];
    for (const res of answers) {
      expect(res.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(res.remark).toBe(aclRemark('No accessKey is configured'));
    }
    // With credentials the same ports answer.
    const m = await mqtt.connectAsync(server.mqttWsUrl, { username: 'alice', password: 'alice-pw', reconnectPeriod: 0 });
    await m.endAsync();
    (await amqpConnect('alice', 'alice-pw')).close();
    expect((await remoting.alice.request(server.brokerAddr, RequestCode.GET_BROKER_RUNTIME_INFO, {})).code).toBe(ResponseCode.SUCCESS);
  });
});

describe('libs/client', () => {
  it('sends and pulls with keys; refuses no keys, a wrong secret, forbidden topics, groups and admin codes', async () => {
    const opts = { nameServer: server.namesrvAddr, requestTimeoutMs: 5000 };
    const alice = new Producer({ ...opts, group: 'alice-p', ...ALICE, retryTimesWhenSendFailed: 0 } as never);
    await alice.start();
    try {
      expect((await alice.send({ topic: 'alice', body: 'signed by alice' })).status).toBe('SEND_OK');
      await expect(alice.send({ topic: 'bob', body: 'x' })).rejects.toMatchObject({ remark: aclRemark('No default permission for topic:bob') });
    } finally {
      await alice.shutdown();
    }
    for (const [keys, remark] of [
      [{}, 'No accessKey is configured'],
      [{ accessKey: ALICE.accessKey, secretKey: 'wrong-secret' }, 'Check signature failed for accessKey=alice-ak'],
    ] as const) {
      const p = new Producer({ ...opts, group: 'alice-p', ...keys, retryTimesWhenSendFailed: 0 } as never);
      await p.start();
      try {
        await expect(p.send({ topic: 'alice', body: 'x' })).rejects.toMatchObject({ remark: aclRemark(remark) });
      } finally {
        await p.shutdown();
      }
    }
    const consumer = new PullConsumer({ ...opts, group: 'alice-g', ...ALICE });
    await consumer.start();
    try {
      const [q] = await consumer.fetchSubscribeQueues('alice');
      expect(q).toBeDefined();
    } finally {
      await consumer.shutdown();
    }
    const stranger = new PullConsumer({ ...opts, group: 'bob-g', ...ALICE });
    await stranger.start();
    try {
      const queues = await stranger.fetchSubscribeQueues('alice');
      await expect(stranger.pull(queues[0]!, '*', 0, 1)).rejects.toMatchObject({ remark: aclRemark('No default permission for group:bob-g') });
    } finally {
      await stranger.shutdown();
    }
    const aliceAdmin = new Admin({ ...opts, ...ALICE });
    const realAdmin = new Admin({ ...opts, ...ADMIN });
    try {
      await expect(aliceAdmin.createTopic('alice-made')).rejects.toMatchObject({
        remark: aclRemark('Need admin permission for request code=17, but accessKey=alice-ak is not'),
      });
      expect((await realAdmin.createTopic('admin-made')).length).toBeGreaterThan(0);
    } finally {
      await aliceAdmin.shutdown();
      await realAdmin.shutdown();
    }
  });
});

describe('ali-ons (accessKey/secretKey, OnsChannel) proves the wire format', () => {
  it('works with the right keys, is refused with a wrong secret and without keys', async () => {
    const p = new Ons.Producer({ httpclient, nameSrv: server.namesrvAddr, producerGroup: 'alice-ons-p', ...ALICE });
    const got: string[] = [];
    const c = new Ons.Consumer({ httpclient, nameSrv: server.namesrvAddr, consumerGroup: 'alice-ons', rebalanceInterval: 1000, ...ALICE });
    c.on('error', () => {});
    try {
      await p.ready();
      const res = await p.send(new Ons.Message('alice', 'T', 'from ali-ons'));
      expect(res.sendStatus).toBe('SEND_OK');
      c.subscribe('alice', '*', async (msg: any) => void got.push(msg.body.toString()));
      await c.ready();
      await eventually(() => got.includes('from ali-ons'), 'ali-ons consumed its own signed send', 30_000);
    } finally {
      await p.close();
      await c.close();
    }
    for (const keys of [{ accessKey: ALICE.accessKey, secretKey: 'wrong-secret' }, {}]) {
      const bad = new Ons.Producer({ httpclient, nameSrv: server.namesrvAddr, producerGroup: 'alice-ons-p2', ...keys });
      bad.on('error', () => {});
      try {
        await expect(
          (async () => {
            await bad.ready();
            await bad.send(new Ons.Message('alice', 'T', 'refused'));
          })(),
        ).rejects.toThrow();
      } finally {
        await bad.close().catch(() => {});
      }
    }
    // Nothing of the refused producers was stored.
    const stored = await pullUntil(remoting.alice, 'alice', 'alice-g', 'from ali-ons');
    expect(stored.bodies).toContain('from ali-ons');
    expect(stored.bodies).not.toContain('refused');
  });
});

describe('one set of rules across MQTT, AMQP and remoting', () => {
  it('MQTT ↔ remoting: a store topic, its LMQs and the mqttTopic / INNER_MULTI_DISPATCH properties', async () => {
    const a = await mqtt.connectAsync(server.mqttUrl, { username: 'alice', password: 'alice-pw', reconnectPeriod: 0 });
    try {
      const got: string[] = [];
      a.on('message', (t, payload) => got.push(`${t}=${payload.toString()}`));
      await a.subscribeAsync('alice/#', { qos: 1 });
      await a.publishAsync('alice/diary', 'dear diary', { qos: 1 });
      await eventually(() => got.includes('alice/diary=dear diary'), 'alice got her MQTT publish');
      expect((await pullUntil(remoting.alice, 'alice', 'alice-g', 'dear diary')).bodies).toContain('dear diary');
      expect((await pullAll(remoting.bob, 'alice', 'bob-g')).refused).toBe(aclRemark('No default permission for topic:alice'));
      expect((await pullAll(remoting.mallory, 'alice', 'mallory-g')).refused).toBe(aclRemark('No default permission for topic:alice'));
      expect((await pullAll(remoting.mallory, '%LMQ%alice%diary%', 'mallory-g', 1)).refused).toBe(
        aclRemark('No default permission for topic:%LMQ%alice%diary%'),
      );
      expect((await pullAll(remoting.mallory, '%LMQ%alice%#%', 'mallory-g', 1)).refused).toBe(aclRemark('No default permission for topic:%LMQ%alice%#%'));
      // Writing: the store topic, the MQTT topic a message claims, and LMQs it asks to be dispatched to.
      expect((await remoting.mallory.send(server.brokerAddr, 'alice', 'x')).remark).toBe(aclRemark('No default permission for topic:alice'));
      expect((await remoting.mallory.send(server.brokerAddr, 'news', 'x', { mqttTopic: 'alice/diary' })).remark).toBe(
        aclRemark('No permission to publish to MQTT topic alice/diary'),
      );
      expect((await remoting.mallory.send(server.brokerAddr, 'news', 'x', { INNER_MULTI_DISPATCH: 'news,%LMQ%alice%diary%' })).remark).toBe(
        aclRemark('No default permission for topic:%LMQ%alice%diary%'),
      );
      // With the right rules a remoting send reaches MQTT subscribers.
      const ok = await remoting.alice.send(server.brokerAddr, 'alice', 'via remoting', { mqttTopic: 'alice/diary' });
      expect(ok.code).toBe(ResponseCode.SUCCESS);
      await eventually(() => got.includes('alice/diary=via remoting'), 'the signed remoting send reached MQTT');
    } finally {
      await a.endAsync();
    }
    // Anonymous MQTT is refused too.
    await expect(mqtt.connectAsync(server.mqttUrl, { reconnectPeriod: 0 })).rejects.toThrow();
  });

  it('AMQP ↔ MQTT ↔ remoting: queue bob/inbox, its dead letters and the issue’s namespace cases', async () => {
    const bob = await amqpConnect('bob', 'bob-pw');
    const mallory = await amqpConnect('mallory', 'mallory-pw');
    const m = await mqtt.connectAsync(server.mqttUrl, { username: 'mallory', password: 'mallory-pw', reconnectPeriod: 0 });
    try {
      const snd = bob.open_sender({ target: { address: 'bob/inbox' } });
      await new Promise(
        (r) => snd.once('accepted', r) && snd.once('sendable', () => snd.send({ body: rhea.message.data_section(Buffer.from('for bob')) } as never)),
      );
      // Remoting: the queue's store topic and group are bob/inbox's, whatever they are spelled.
      expect((await pullAll(remoting.mallory, 'AMQP_bob|inbox', 'mallory-g', 1)).refused).toBe(aclRemark('No default permission for topic:AMQP_bob|inbox'));
      expect((await pullAll(remoting.mallory, 'mallory', 'AMQP_bob|inbox', 1)).refused).toBe(aclRemark('No default permission for group:AMQP_bob|inbox'));
      expect((await remoting.mallory.send(server.brokerAddr, 'AMQP_bob|inbox', 'injected')).remark).toBe(
        aclRemark('No default permission for topic:AMQP_bob|inbox'),
      );
      // MQTT `AMQP_bob|inbox/x` is mallory's own topic now: stored apart, never in bob's queue,
      // and an MQTT subscription by that name reads mallory's topic, not the queue.
      const seen: string[] = [];
      m.on('message', (t, payload) => seen.push(`${t}=${payload.toString()}`));
      await m.subscribeAsync('AMQP_bob|inbox/#', { qos: 1 });
      await new Promise((r) => snd.once('accepted', r) && snd.send({ body: rhea.message.data_section(Buffer.from('for bob, again')) } as never));
      await m.publishAsync('AMQP_bob|inbox/x', 'injected by mqtt', { qos: 1 });
      await eventually(() => seen.includes('AMQP_bob|inbox/x=injected by mqtt'), 'mallory got her own MQTT publish');
      expect(seen).toEqual(['AMQP_bob|inbox/x=injected by mqtt']);
      // MQTT names of bob's data are denied to mallory: the subscription is refused, the publish dropped.
      await expect(m.subscribeAsync('bob/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
      await m.publishAsync('bob/inbox', 'mqtt to bob', { qos: 1 }).catch(() => {});
      const queue = await pullUntil(remoting.admin, 'AMQP_bob|inbox', 'admin-g', 'for bob', 1);
      expect(queue.bodies).toContain('for bob');
      expect(queue.bodies).not.toContain('injected');
      // bob's own MQTT publish after it is the marker: once it is stored, mallory's would be too.
      const b = await mqtt.connectAsync(server.mqttUrl, { username: 'bob', password: 'bob-pw', reconnectPeriod: 0 });
      await b.publishAsync('bob/marker', 'bob was here', { qos: 1 });
      await b.endAsync();
      const bobTopic = await pullUntil(remoting.admin, 'bob', 'admin-g', 'bob was here');
      expect(bobTopic.bodies).toContain('bob was here');
      expect(bobTopic.bodies).not.toContain('mqtt to bob');
      expect(await pullUntil(remoting.admin, 'MQTT_AMQP_5Fbob_7Cinbox', 'admin-g', 'injected by mqtt')).toEqual({
        bodies: expect.stringContaining('injected by mqtt'),
      });
      // AMQP: mallory reaches neither bob's dead letters nor alice's MQTT data under other spellings.
      expect(await refusedReceiver(mallory, '$dlq/bob/inbox')).toBe('amqp:unauthorized-access');
      expect(await refusedReceiver(mallory, 'topic/alice/#')).toBe('amqp:unauthorized-access');
      expect(await refusedReceiver(mallory, 'alice')).toBe('amqp:unauthorized-access');
      expect(await refusedReceiver(mallory, 'bob/inbox')).toBe('amqp:unauthorized-access');
      // bob rejects his message: it moves to his dead-letter queue, readable by him only.
      const rcv = bob.open_receiver({ source: { address: 'bob/inbox' }, autoaccept: false, credit_window: 10 });
      await new Promise<void>((resolve) =>
        rcv.once('message', (ctx) => {
          ctx.delivery!.reject({ condition: 'app:bad', description: 'no thanks' });
          resolve();
        }),
      );
      const dlq = await pullUntil(remoting.bob, '%DLQ%AMQP_bob|inbox', 'bob-g', 'for bob', 1);
      expect(dlq.refused).toBeUndefined();
      expect(dlq.bodies).toContain('for bob');
      expect((await pullAll(remoting.mallory, '%DLQ%AMQP_bob|inbox', 'mallory-g', 1)).refused).toBe(
        aclRemark('No default permission for topic:%DLQ%AMQP_bob|inbox'),
      );
      // Retry topics belong to their group.
      expect((await pullAll(remoting.mallory, '%RETRY%bob-g', 'mallory-g', 1)).refused).toBe(aclRemark('No default permission for topic:%RETRY%bob-g'));
      expect((await remoting.mallory.send(server.brokerAddr, '%RETRY%bob-g', 'x')).remark).toBe(aclRemark('No default permission for topic:%RETRY%bob-g'));
      expect((await pullAll(remoting.bob, '%RETRY%bob-g', 'bob-g', 1)).refused).toBeUndefined();
      // AMQP → MQTT data of another user: refused one message at a time.
      const ms = mallory.open_sender({ target: { address: 'topic/alice/x' } });
      const outcome = await new Promise<string>((resolve) => {
        ms.once('sendable', () => ms.send({ body: 'x' } as never));
        ms.once('rejected', (ctx) => resolve(String((ctx.delivery!.remote_state as { error?: { condition?: string } }).error?.condition)));
        ms.once('accepted', () => resolve('accepted'));
      });
      expect(outcome).toBe('amqp:unauthorized-access');
    } finally {
      bob.close();
      mallory.close();
      await m.endAsync();
    }
  });
});
