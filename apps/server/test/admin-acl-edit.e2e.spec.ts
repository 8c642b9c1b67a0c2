/**
 * Editing users and rules through the admin API (PUT/DELETE /api/v1/acl/…) against real server
 * processes: the config file is rewritten (other sections kept, passwords hashed), the change is
 * in force at once on every port — for new clients and for an MQTT connection already open, for
 * signed remoting requests to the broker and to the NameServer — and survives a restart; edits
 * that are malformed, that would lock every admin out, or that a read-only setup cannot take are
 * refused with clear errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hashPassword } from '@apogee/broker';
import { RequestCode, ResponseCode } from '@apogee/remoting';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignedRemoting, aclRemark } from './acl-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

interface Answer {
  status: number;
  body: any;
}

const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
const OPS = basic('ops', 'ops-secret');

async function api(base: string, method: string, route: string, body?: unknown, headers: Record<string, string> = OPS): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`http://${base}/api/v1${route}`, init);
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

function expectError(a: Answer, status: number, code: string, message?: RegExp): void {
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  expect(a.body.error.code).toBe(code);
  if (message) expect(a.body.error.message).toMatch(message);
}

/** An MQTT 5 connection with these credentials, or the CONNACK refusal's reason code. */
async function connectMqtt(addr: string, username: string | undefined, password: string | undefined, clientId: string): Promise<mqtt.MqttClient | number> {
  const [host, port] = addr.split(':');
  const c = mqtt.connect({
    host,
    port: Number(port),
    protocolVersion: 5,
    clientId,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number') resolve(code);
      else reject(err);
    });
  });
}

/** The PUBACK reason code of a QoS 1 publish (0 accepted). */
function publishCode(c: mqtt.MqttClient, topic: string): Promise<number> {
  return new Promise((resolve) => {
    c.publish(topic, 'x', { qos: 1 }, (err) => {
      resolve(err ? ((err as { code?: number }).code ?? -1) : 0);
    });
  });
}

const NOT_AUTHORIZED = 0x87;
const BAD_CREDENTIALS = 0x86;

describe('admin API: editing users and rules', () => {
  let dir: string;
  let file: string;
  let server: ServerProcess;
  const open: mqtt.MqttClient[] = [];

  beforeAll(async () => {
    dir = tempDataDir('apg-acl-edit-');
    file = path.join(dir, 'apogee.json');
    const auth = { allowAnonymous: true, anonymous: { admin: false }, users: [{ username: 'ops', password: await hashPassword('ops-secret'), admin: true }] };
    fs.writeFileSync(file, JSON.stringify({ logLevel: 'info', mqtt: { maxInflight: 32 }, auth }, null, 2));
    server = await ServerProcess.start(path.join(dir, 'data'), undefined, ['--config', file]);
  });

  afterAll(async () => {
    for (const c of open) c.end(true);
    await killAllStarted();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says the config is editable, and creates a user whose password works on MQTT at once', async () => {
    const acl = await api(server.httpAddr, 'GET', '/acl');
    expect(acl.body).toMatchObject({ editable: true, allowAnonymous: true });
    expect(acl.body.readOnlyReason).toBeUndefined();
    expect(await connectMqtt(server.mqttUrl.slice(7), 'device', 'dev-pw', 'd0')).toBe(BAD_CREDENTIALS);

    const created = await api(server.httpAddr, 'PUT', '/acl/users/device', {
      newPassword: 'dev-pw',
      publish: { allow: ['dev/#'] },
      subscribe: { allow: ['dev/#'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ username: 'device', admin: false, password: true, publish: { allow: ['dev/#'], deny: [] } });

    const c = await connectMqtt(server.mqttUrl.slice(7), 'device', 'dev-pw', 'd1');
    expect(typeof c).toBe('object');
    open.push(c as mqtt.MqttClient);
    expect(await publishCode(c as mqtt.MqttClient, 'dev/a')).toBe(0);
    expect(await publishCode(c as mqtt.MqttClient, 'other/a')).toBe(NOT_AUTHORIZED);

    // The file holds the hash, never the plain password, and its other settings are untouched.
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(doc.logLevel).toBe('info');
    expect(doc.mqtt).toEqual({ maxInflight: 32 });
    const written = doc.auth.users.find((u: { username: string }) => u.username === 'device');
    expect(written.password).toMatch(/^scrypt\$/);
    expect(fs.readFileSync(file, 'utf8')).not.toContain('dev-pw');
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('changes the rules of a connected client at once, keeping the password it was not given', async () => {
    const c = open[0]!;
    const replaced = await api(server.httpAddr, 'PUT', '/acl/users/device', { publish: { allow: ['other/#'] } });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.body.password).toBe(true);
    expect(await publishCode(c, 'other/a')).toBe(0);
    expect(await publishCode(c, 'dev/a')).toBe(NOT_AUTHORIZED);
    const again = await connectMqtt(server.mqttUrl.slice(7), 'device', 'dev-pw', 'd2');
    expect(typeof again).toBe('object');
    (again as mqtt.MqttClient).end(true);
  });

  it('gives a new RocketMQ account to the broker and the NameServer at once', async () => {
    const creds = { accessKey: 'svc-access-key', secretKey: 'svc-secret-key' };
    const svc = new SignedRemoting(creds);
    try {
      const before = await svc.request(server.namesrvAddr, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'svc-topic' });
      expect(before.remark).toBe(aclRemark('No acl config for svc-access-key'));
      const put = await api(server.httpAddr, 'PUT', '/acl/users/svc', { ...creds, admin: true });
      expect(put.status, JSON.stringify(put.body)).toBe(201);
      expect(put.body.accessKey).toBe('svc-access-key');
      await svc.createTopic(server.brokerAddr, server.namesrvAddr, 'svc-topic');
      expect((await svc.send(server.brokerAddr, 'svc-topic', 'hello')).code).toBe(ResponseCode.SUCCESS);
      // A wrong secret for the same key is still refused.
      const forged = new SignedRemoting({ accessKey: 'svc-access-key', secretKey: 'not-the-secret' });
      expect((await forged.send(server.brokerAddr, 'svc-topic', 'x')).remark).toMatch(/Check signature failed/);
      forged.close();
      // Editing the user's rules without repeating its secret keeps the key pair.
      expect((await api(server.httpAddr, 'PUT', '/acl/users/svc', { admin: true, publish: { allow: ['svc-topic'] } })).body.accessKey).toBe('svc-access-key');
      expect((await svc.send(server.brokerAddr, 'svc-topic', 'again')).code).toBe(ResponseCode.SUCCESS);
    } finally {
      svc.close();
    }
  });

  it('refuses malformed edits, unknown users and edits that would lock every admin out, changing nothing', async () => {
    const before = fs.readFileSync(file, 'utf8');
    expectError(await api(server.httpAddr, 'PUT', '/acl/users/x', { password: 'plain-text' }), 400, 'BAD_REQUEST', /scrypt hash/);
    expectError(await api(server.httpAddr, 'PUT', '/acl/users/x', { newPassword: 'pw', colour: 'blue' }), 400, 'BAD_REQUEST', /unknown user setting "colour"/);
    expectError(await api(server.httpAddr, 'PUT', '/acl/users/x', { newPassword: 'pw', password: 'scrypt$1' }), 400, 'BAD_REQUEST', /not both/);
    expectError(
      await api(server.httpAddr, 'PUT', '/acl/users/x', { newPassword: 'pw', publish: { allow: 'all' } }),
      400,
      'BAD_REQUEST',
      /list of topic patterns/,
    );
    expectError(await api(server.httpAddr, 'PUT', '/acl/users/x', { newPassword: 'pw', username: 'y' }), 400, 'BAD_REQUEST', /path/);
    expectError(
      await api(server.httpAddr, 'PUT', '/acl/users/x', { accessKey: 'svc-access-key', secretKey: 'another-secret' }),
      400,
      'BAD_REQUEST',
      /belongs to another user/,
    );
    expectError(await api(server.httpAddr, 'PUT', '/acl/users/x', '{"newPassword":'), 400, 'MALFORMED_JSON');
    expectError(await api(server.httpAddr, 'PUT', '/acl/users/x', { newPassword: 'p'.repeat(100_000) }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await api(server.httpAddr, 'DELETE', '/acl/users/nobody'), 404, 'NOT_FOUND', /no user nobody/);
    expectError(await api(server.httpAddr, 'DELETE', '/acl/users/ops'), 409, 'CONFLICT', /no admin could log in/);
    expectError(await api(server.httpAddr, 'PUT', '/acl/users/ops', { admin: false }), 409, 'CONFLICT', /no admin could log in/);
    expectError(await api(server.httpAddr, 'PUT', '/acl/anonymous', { colour: 'blue' }), 400, 'BAD_REQUEST', /unknown setting/);
    expectError(await api(server.httpAddr, 'PUT', '/acl/anonymous', { allowAnonymous: 'yes' }), 400, 'BAD_REQUEST', /true or false/);
    expectError(await api(server.httpAddr, 'PUT', '/acl/users/x', { newPassword: 'pw' }, basic('device', 'dev-pw')), 403, 'FORBIDDEN', /not an admin/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('checks a changed admin password at once, not from the remembered credential', async () => {
    expect((await api(server.httpAddr, 'GET', '/acl')).status).toBe(200);
    expect((await api(server.httpAddr, 'PUT', '/acl/users/ops', { newPassword: 'ops-secret-2', admin: true })).status).toBe(200);
    expectError(await api(server.httpAddr, 'GET', '/acl'), 401, 'UNAUTHENTICATED');
    expect((await api(server.httpAddr, 'GET', '/acl', undefined, basic('ops', 'ops-secret-2'))).status).toBe(200);
    expect((await api(server.httpAddr, 'PUT', '/acl/users/ops', { newPassword: 'ops-secret', admin: true }, basic('ops', 'ops-secret-2'))).status).toBe(200);
  });

  it('switches anonymous access off for new clients', async () => {
    const anon = await connectMqtt(server.mqttUrl.slice(7), undefined, undefined, 'a1');
    expect(typeof anon).toBe('object');
    (anon as mqtt.MqttClient).end(true);
    const put = await api(server.httpAddr, 'PUT', '/acl/anonymous', { allowAnonymous: false });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ allowAnonymous: false, anonymous: { admin: false } });
    expect(await connectMqtt(server.mqttUrl.slice(7), undefined, undefined, 'a2')).toBe(NOT_AUTHORIZED);
    const route = await new SignedRemoting().request(server.namesrvAddr, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'svc-topic' });
    expect(route.remark).toBe(aclRemark('No accessKey is configured'));
  });

  it('deletes a user: its open connection loses every permission, new logins are refused', async () => {
    const c = open[0]!;
    expect(await publishCode(c, 'other/b')).toBe(0);
    expect((await api(server.httpAddr, 'DELETE', '/acl/users/device')).body).toEqual({ deleted: 'device' });
    expect(await publishCode(c, 'other/b')).toBe(NOT_AUTHORIZED);
    expect(await connectMqtt(server.mqttUrl.slice(7), 'device', 'dev-pw', 'd3')).toBe(BAD_CREDENTIALS);
  });

  it('keeps every edit across a restart', async () => {
    for (const c of open.splice(0)) c.end(true);
    expect(await server.stop()).toBe(0);
    server = await ServerProcess.start(path.join(dir, 'data'), undefined, ['--config', file]);
    const acl = await api(server.httpAddr, 'GET', '/acl');
    expect(acl.body.allowAnonymous).toBe(false);
    expect(acl.body.users.map((u: { username: string }) => u.username)).toEqual(['ops', 'svc']);
    expect(acl.body.users[1]).toMatchObject({ accessKey: 'svc-access-key', publish: { allow: ['svc-topic'] } });
  });
});

describe('admin API: users and rules where the config cannot be edited', () => {
  it('says why and refuses edits, without a config file and with one that had no auth section', async () => {
    const dir = tempDataDir('apg-acl-ro-');
    try {
      const plain = await ServerProcess.start(path.join(dir, 'plain'));
      const noFile = await api(plain.httpAddr, 'GET', '/acl', undefined, {});
      expect(noFile.body).toMatchObject({ editable: false, readOnlyReason: expect.stringMatching(/without a config file/) });
      expectError(await api(plain.httpAddr, 'PUT', '/acl/users/x', { newPassword: 'pw' }, {}), 409, 'CONFLICT', /read-only here: .*without a config file/);
      await plain.kill();

      const file = path.join(dir, 'no-auth.json');
      fs.writeFileSync(file, JSON.stringify({ logLevel: 'info' }));
      const noAuth = await ServerProcess.start(path.join(dir, 'no-auth'), undefined, ['--config', file]);
      expect((await api(noAuth.httpAddr, 'GET', '/acl', undefined, {})).body.readOnlyReason).toMatch(/no "auth" section at start/);
      await noAuth.kill();
    } finally {
      await killAllStarted();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('admin API: password guessing', () => {
  it('refuses an address with 429 after ten failed logins in a minute, even with the right password', async () => {
    const dir = tempDataDir('apg-admin-throttle-');
    try {
      const file = path.join(dir, 'apogee.json');
      fs.writeFileSync(
        file,
        JSON.stringify({ auth: { anonymous: { admin: false }, users: [{ username: 'ops', password: await hashPassword('ops-secret'), admin: true }] } }),
      );
      const s = await ServerProcess.start(path.join(dir, 'data'), undefined, ['--config', file]);
      for (let i = 0; i < 10; i++) expectError(await api(s.httpAddr, 'GET', '/topics', undefined, basic('ops', `guess-${i}`)), 401, 'UNAUTHENTICATED');
      const res = await fetch(`http://${s.httpAddr}/api/v1/topics`, { headers: basic('ops', 'ops-secret-wrong') });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('60');
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/too many failed logins from 127\.0\.0\.1/);
      expectError(await api(s.httpAddr, 'GET', '/topics', undefined, basic('ops', 'ops-secret')), 429, 'TOO_MANY_REQUESTS');
      // Health needs no login and stays open.
      expect((await api(s.httpAddr, 'GET', '/health', undefined, {})).status).toBe(200);
    } finally {
      await killAllStarted();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
