/**
 * The HTTP admin API (/api/v1, docs/admin-api.openapi.json) against a real server process: every
 * route, with clients we did not write (mqtt.js, rhea) and @apogee/client making the state it
 * shows; bad input (unknown names, malformed JSON, huge and mistyped bodies, bad parameters) and,
 * on a second server with an `auth` section, authentication and the admin permission.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MessageSelector, Producer, PullConsumer, PushConsumer, TransactionProducer } from '@apogee/client';
import { hashPassword } from '@apogee/broker';
import mqtt from 'mqtt';
import type * as Rhea from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const rhea = createRequire(import.meta.url)('rhea') as typeof Rhea;

let server: ServerProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir('apg-admin-');
  server = await ServerProcess.start(dataDir);
});

afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function api(
  method: string,
  route: string,
  body?: unknown,
  init: { headers?: Record<string, string>; raw?: string | Buffer; base?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let payload: string | Buffer | undefined = init.raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`http://${init.base ?? server.httpAddr}/api/v1${route}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the assertion shows the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

function expectError(a: Answer, status: number, code: string, message?: RegExp): void {
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  expect(a.body.error.code).toBe(code);
  if (message) expect(a.body.error.message).toMatch(message);
}

describe('admin API: cluster and topics', () => {
  it('answers health and the cluster view', async () => {
    expect(await api('GET', '/health')).toMatchObject({ status: 200, body: { status: 'UP' } });
    const c = await api('GET', '/cluster');
    expect(c.status).toBe(200);
    expect(c.body.clusterName).toBe('DefaultCluster');
    const [b] = c.body.brokers;
    expect(b).toMatchObject({ brokerName: 'broker-a', role: 'MASTER', version: '0.1.0', listeners: { broker: server.brokerAddr } });
    expect(b.store.disk.totalBytes).toBeGreaterThan(0);
  });

  it('creates, reads, updates and deletes a topic, with clear errors for what is wrong', async () => {
    const created = await api('POST', '/topics', { topic: 'AdminT', queues: 2 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ topicName: 'AdminT', readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    expectError(await api('POST', '/topics', { topic: 'AdminT' }), 409, 'CONFLICT', /exists/);
    const got = await api('GET', '/topics/AdminT');
    expect(got.body.queues).toEqual([
      { queueId: 0, minOffset: 0, maxOffset: 0, lastStoreTimestamp: 0 },
      { queueId: 1, minOffset: 0, maxOffset: 0, lastStoreTimestamp: 0 },
    ]);
    // Nothing sent to it yet: its rates over the last window are 0.
    expect(got.body.rates).toEqual({ inPerSecond: 0, outPerSecond: 0 });
    expect((await api('PUT', '/topics/AdminT', { writeQueueNums: 4, readQueueNums: 4 })).body).toMatchObject({ readQueueNums: 4, writeQueueNums: 4 });
    const list = await api('GET', '/topics?kind=normal');
    expect(list.body.topics.map((t: { topicName: string }) => t.topicName)).toContain('AdminT');
    expect((await api('GET', '/topics?kind=system')).body.topics.map((t: { topicName: string }) => t.topicName)).toContain('TBW102');
    expect((await api('DELETE', '/topics/AdminT')).body).toEqual({ deleted: 'AdminT' });
    expectError(await api('GET', '/topics/AdminT'), 404, 'NOT_FOUND', /AdminT does not exist/);
    expectError(await api('DELETE', '/topics/AdminT'), 404, 'NOT_FOUND');
    // Illegal names, fields and values.
    expectError(await api('POST', '/topics', { topic: 'bad topic!' }), 400, 'BAD_REQUEST');
    expectError(await api('POST', '/topics', { topic: 'T2', queues: 0 }), 400, 'BAD_REQUEST', /"queues"/);
    expectError(await api('POST', '/topics', { topic: 'T2', color: 'red' }), 400, 'BAD_REQUEST', /unknown field "color"/);
    expectError(await api('POST', '/topics', {}), 400, 'BAD_REQUEST', /"topic"/);
    expectError(await api('DELETE', '/topics/TBW102'), 403, 'FORBIDDEN', /default topic/);
    expectError(await api('GET', '/topics?kind=weird'), 400, 'BAD_REQUEST', /kind/);
  });

  it('refuses malformed, huge and mistyped bodies, unknown routes and methods', async () => {
    expectError(await api('POST', '/topics', undefined, { raw: '{"topic": ', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON');
    expectError(await api('POST', '/topics', undefined, { raw: '[1,2]', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON', /object/);
    expectError(await api('POST', '/topics', undefined, { raw: 'topic=x', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const huge = JSON.stringify({ topic: 'Huge', pad: 'x'.repeat(2 * 1024 * 1024) });
    expectError(await api('POST', '/topics', undefined, { raw: huge, headers: { 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await api('GET', '/nothing/here'), 404, 'NOT_FOUND', /no admin route/);
    expectError(await api('PATCH', '/topics'), 405, 'METHOD_NOT_ALLOWED', /GET, POST/);
    expectError(await api('GET', '/topics/%E0%A4%A'), 400, 'BAD_REQUEST', /percent-encoding/);
    // The server is still well after all that.
    expect((await api('GET', '/health')).status).toBe(200);
  });
});

describe('admin API: groups and messages', () => {
  it('shows a group lag, skips the backlog, resets by time, and refuses while members are online', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'AdminLag', 1);
    const producer = new Producer({ nameServer: server.namesrvAddr, group: 'admin-pg' });
    await producer.start();
    const puller = new PullConsumer({ nameServer: server.namesrvAddr, group: 'admin-cg' });
    await puller.start();
    try {
      const sent = [];
      for (let i = 0; i < 5; i++) sent.push(await producer.send({ topic: 'AdminLag', body: `m${i}`, keys: [`key-${i}`], tags: 'tagA' }));
      const [queue] = await puller.fetchSubscribeQueues('AdminLag');
      const r = await puller.pull(queue!, MessageSelector.byTag('*'), 0, 2);
      await puller.commitOffset(queue!, r.nextBeginOffset);
      // A pull consumer is a member too (it heartbeats): offsets move only with the group offline.
      expect((await api('GET', '/groups')).body.groups).toContainEqual({ groupName: 'admin-cg', online: true, members: 1, lag: 3 });
      await puller.shutdown();
      const g = await api('GET', '/groups/admin-cg');
      expect(g.status, JSON.stringify(g.body)).toBe(200);
      expect(g.body.lag).toBe(3);
      expect(g.body.queues).toEqual([{ topic: 'AdminLag', queueId: 0, brokerOffset: 5, consumerOffset: 2, lag: 3 }]);
      expect((await api('GET', '/groups')).body.groups).toContainEqual({ groupName: 'admin-cg', online: false, members: 0, lag: 3 });
      const skipped = await api('POST', '/groups/admin-cg/skip-backlog', {});
      expect(skipped.body.queues).toEqual([{ topic: 'AdminLag', queueId: 0, from: 2, to: 5 }]);
      expect((await api('GET', '/groups/admin-cg')).body.lag).toBe(0);
      const reset = await api('POST', '/groups/admin-cg/reset-offset', { timestamp: 0, topic: 'AdminLag' });
      expect(reset.body.queues).toEqual([{ topic: 'AdminLag', queueId: 0, from: 5, to: 0 }]);
      expect((await api('GET', '/groups/admin-cg')).body.lag).toBe(5);
      expectError(await api('POST', '/groups/admin-cg/reset-offset', {}), 400, 'BAD_REQUEST', /timestamp/);
      expectError(await api('POST', '/groups/admin-cg/reset-offset', { timestamp: 0, topic: 'NoSuchTopic' }), 404, 'NOT_FOUND');
      expectError(await api('GET', '/groups/no-such-group'), 404, 'NOT_FOUND');

      // Messages: by offset id, by client id with its topic, by key, by time range; resend to a group.
      const byId = await api('GET', `/messages/${sent[3]!.offsetMsgId}`);
      expect(byId.status, JSON.stringify(byId.body)).toBe(200);
      expect(byId.body).toMatchObject({ topic: 'AdminLag', queueOffset: 3, tags: 'tagA', keys: ['key-3'], body: { text: 'm3' } });
      expect(Buffer.from(byId.body.body.base64, 'base64').toString()).toBe('m3');
      expect((await api('GET', `/messages/${sent[1]!.msgId}?topic=AdminLag`)).body).toMatchObject({ queueOffset: 1, uniqKey: sent[1]!.msgId });
      expectError(await api('GET', `/messages/${sent[1]!.msgId}`), 404, 'NOT_FOUND', /needs \?topic=/);
      expectError(await api('GET', '/messages/not-an-id'), 404, 'NOT_FOUND');
      expect((await api('GET', '/messages?topic=AdminLag&key=key-4')).body.messages.map((m: { body: { text: string } }) => m.body.text)).toEqual(['m4']);
      const range = await api('GET', `/messages?topic=AdminLag&queueId=0&begin=0&end=${Date.now() + 1000}&limit=3`);
      expect(range.body.messages.map((m: { body: { text: string } }) => m.body.text)).toEqual(['m0', 'm1', 'm2']);
      expect(range.body).toMatchObject({ nextOffset: 3, more: true });
      expectError(await api('GET', '/messages?topic=AdminLag&queueId=9&begin=0'), 400, 'BAD_REQUEST', /queueId/);
      expectError(await api('GET', '/messages?key=x'), 400, 'BAD_REQUEST', /"topic"/);
      const resent = await api('POST', `/messages/${sent[0]!.offsetMsgId}/resend`, { group: 'admin-cg' });
      expect(resent.status, JSON.stringify(resent.body)).toBe(200);
      expect(resent.body.topic).toBe('%RETRY%admin-cg');
      const retry = await api('GET', `/messages/${resent.body.msgId}`);
      expect(retry.body).toMatchObject({ topic: '%RETRY%admin-cg', reconsumeTimes: 1, body: { text: 'm0' }, properties: { RETRY_TOPIC: 'AdminLag' } });

      // With a member online, moving offsets is refused.
      const push = new PushConsumer({ nameServer: server.namesrvAddr, group: 'admin-cg' });
      push.subscribe('AdminLag', '*');
      await push.start(async () => {});
      try {
        let online: Answer | undefined;
        for (let i = 0; i < 100; i++) {
          online = await api('GET', '/groups/admin-cg');
          if (online.body.online) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(online!.body.members[0]).toMatchObject({ clientId: push.clientId, address: expect.stringMatching(/^127\.0\.0\.1:/) });
        expect(online!.body.subscriptions).toContainEqual({ topic: 'AdminLag', expressionType: 'TAG', expression: '*' });
        expectError(await api('POST', '/groups/admin-cg/skip-backlog', {}), 409, 'CONFLICT', /online member/);
      } finally {
        await push.shutdown();
      }
    } finally {
      await puller.shutdown().catch(() => {});
      await producer.shutdown();
    }
  });
});

describe('admin API: timers and transactions', () => {
  it('recalls a pending timer message and lists an open transaction', async () => {
    // Created over remoting, which waits until the NameServer routes it (the producers need the route).
    await createTopic(server.brokerAddr, server.namesrvAddr, 'AdminSem', 1);
    const producer = new Producer({ nameServer: server.namesrvAddr, group: 'admin-sem-pg' });
    await producer.start();
    const tx = new TransactionProducer<string>({
      nameServer: server.namesrvAddr,
      group: 'admin-tx-pg',
      listener: { executeLocalTransaction: () => 'UNKNOWN', checkLocalTransaction: () => 'UNKNOWN' },
    });
    tx.on('error', () => {});
    await tx.start();
    try {
      const timed = await producer.send({ topic: 'AdminSem', body: 'later', delayMs: 3_600_000 });
      expect((await api('DELETE', `/timers/${timed.msgId}`)).body).toEqual({ recalled: timed.msgId });
      expectError(await api('DELETE', `/timers/${timed.msgId}`), 404, 'NOT_FOUND', /no pending timer/);
      const half = await tx.sendMessageInTransaction({ topic: 'AdminSem', body: 'pending' }, 'x');
      const open = await api('GET', '/transactions');
      expect(open.status, JSON.stringify(open.body)).toBe(200);
      expect(open.body.transactions).toContainEqual(
        expect.objectContaining({ topic: 'AdminSem', transactionId: half.msgId, producerGroup: 'admin-tx-pg', checkTimes: 0 }),
      );
      expectError(await api('GET', '/transactions?limit=0'), 400, 'BAD_REQUEST', /limit/);
    } finally {
      await tx.shutdown();
      await producer.shutdown();
    }
  });
});

describe('admin API: MQTT and AMQP', () => {
  it('lists an MQTT 5 client with its subscription, shows retained messages and disconnects it with 0x98', async () => {
    const client = await mqtt.connectAsync(server.mqttUrl, { protocolVersion: 5, clientId: 'admin-dev-1', reconnectPeriod: 0, clean: true });
    try {
      await client.subscribeAsync('admin/+/state', { qos: 1 });
      await client.publishAsync('admin/d1/state', 'on', { qos: 1, retain: true });
      const list = await api('GET', '/mqtt/clients?prefix=admin-');
      expect(list.body.clients).toHaveLength(1);
      expect(list.body.clients[0]).toMatchObject({
        clientId: 'admin-dev-1',
        connected: true,
        protocolVersion: 5,
        persistent: false,
        subscriptions: [{ filter: 'admin/+/state', qos: 1, shared: false }],
      });
      expect(list.body.clients[0].remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
      expect((await api('GET', '/mqtt/clients/admin-dev-1')).body.clientId).toBe('admin-dev-1');
      const retained = await api('GET', `/mqtt/retained?filter=${encodeURIComponent('admin/#')}`);
      expect(retained.body.messages.map((m: { body: { text: string } }) => m.body.text)).toEqual(['on']);
      const reason = new Promise<number | undefined>((resolve) => client.once('disconnect', (p) => resolve(p.reasonCode)));
      expect((await api('DELETE', '/mqtt/clients/admin-dev-1/connection')).body).toEqual({ disconnected: 'admin-dev-1' });
      expect(await reason).toBe(0x98);
      expectError(await api('DELETE', '/mqtt/clients/admin-dev-1/connection'), 404, 'NOT_FOUND', /not connected/);
      expectError(await api('GET', '/mqtt/clients/nobody'), 404, 'NOT_FOUND');
    } finally {
      client.end(true);
    }
  });

  it('lists AMQP connections with their links, addresses and credit', async () => {
    const c = rhea.create_container({ id: 'admin-amqp-container' }).connect({ host: '127.0.0.1', port: server.amqpPort, reconnect: false });
    c.on('error', () => {});
    c.on('disconnected', () => {});
    await new Promise<void>((resolve, reject) => {
      c.once('connection_open', () => resolve());
      c.once('connection_error', () => reject(new Error('connection error')));
    });
    try {
      const r = c.open_receiver({ source: { address: 'admin-q' }, credit_window: 25 });
      await new Promise((resolve) => r.once('receiver_open', resolve));
      let view: any;
      for (let i = 0; i < 50; i++) {
        const conns = (await api('GET', '/amqp/connections')).body.connections as any[];
        view = conns.find((x) => x.containerId === 'admin-amqp-container');
        if (view?.links.length) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(view).toMatchObject({ containerId: 'admin-amqp-container', links: [{ role: 'sender', address: 'admin-q', credit: 25 }] });
      expect(view.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    } finally {
      c.close();
    }
  });
});

describe('admin API with an auth section', () => {
  let secured: ServerProcess;
  let dir: string;

  beforeAll(async () => {
    dir = tempDataDir('apg-admin-auth-');
    const file = path.join(dir, 'apogee.json');
    const auth = {
      allowAnonymous: true,
      anonymous: { admin: false },
      users: [
        { username: 'ops', password: await hashPassword('ops-secret'), admin: true },
        { username: 'dev', password: await hashPassword('dev-secret'), admin: false, accessKey: 'dev-access-key', secretKey: 'dev-secret-key' },
      ],
    };
    fs.writeFileSync(file, JSON.stringify({ auth }));
    secured = await ServerProcess.start(path.join(dir, 'data'), undefined, ['--config', file]);
  });

  afterAll(async () => {
    await secured?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

  it('lets only admins in, health stays open, and the ACL view holds no secret', async () => {
    const base = secured.httpAddr;
    expect((await api('GET', '/health', undefined, { base })).status).toBe(200);
    const anonymous = await api('GET', '/topics', undefined, { base });
    expectError(anonymous, 403, 'FORBIDDEN', /anonymous/);
    const wrong = await api('GET', '/topics', undefined, { base, headers: basic('ops', 'nope') });
    expectError(wrong, 401, 'UNAUTHENTICATED', /bad username or password/);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic realm="apogee"/);
    expectError(await api('GET', '/topics', undefined, { base, headers: basic('dev', 'dev-secret') }), 403, 'FORBIDDEN', /dev is not an admin/);
    expectError(await api('GET', '/topics', undefined, { base, headers: { authorization: 'Bearer abc' } }), 401, 'UNAUTHENTICATED', /Basic/);
    const ok = await api('GET', '/topics', undefined, { base, headers: basic('ops', 'ops-secret') });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    // Remembered credentials keep working (and a changed password would not match the remembered hash).
    expect((await api('GET', '/cluster', undefined, { base, headers: basic('ops', 'ops-secret') })).status).toBe(200);
    const acl = await api('GET', '/acl', undefined, { base, headers: basic('ops', 'ops-secret') });
    expect(acl.body.users).toContainEqual(expect.objectContaining({ username: 'dev', admin: false, password: true, accessKey: 'dev-access-key' }));
    expect(JSON.stringify(acl.body)).not.toMatch(/scrypt|dev-secret-key|ops-secret/);
  });
});
