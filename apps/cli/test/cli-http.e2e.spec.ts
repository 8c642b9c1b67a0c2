/**
 * The CLI's commands served by the HTTP admin API (mqtt, amqp, acl, timer, group offset moves), as
 * a user runs them: a child process against a real server process with an `auth` section, clients
 * we did not write (mqtt.js, rhea) and @apogee/client making the state they show; refusals (wrong
 * password, no admin, unknown names, an unreachable API) answered with clear lines and exit 1.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MessageSelector, Producer, PullConsumer } from '@apogee/client';
import { hashPassword } from '@apogee/broker';
import mqtt from 'mqtt';
import type * as Rhea from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { ServerProcess, freePort, killAllStarted, tempDataDir } from '../../server/test/server-process.js';

const rhea = createRequire(import.meta.url)('rhea') as typeof Rhea;
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repoRoot, 'apps/cli/src/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let server: ServerProcess;
let dataDir: string;

/** The CLI as `ops` (admin), its password in the environment. */
function cli(args: readonly string[], env: Record<string, string> = { APOGEE_USER: 'ops', APOGEE_PASSWORD: 'ops-secret' }): Promise<Run> {
  const full: Record<string, string | undefined> = { ...process.env, APOGEE_HTTP: `http://${server.httpAddr}`, ...env };
  for (const k of ['APOGEE_NAMESRV', 'APOGEE_USER', 'APOGEE_PASSWORD']) if (!(k in env)) delete full[k];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repoRoot, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function json(r: Run): any {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n')[0]!);
}

/** Creates a one-queue topic over the API as `ops` (anonymous clients are no admins here), then waits for its route. */
async function createTopic(topic: string): Promise<void> {
  const res = await fetch(`http://${server.httpAddr}/api/v1/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('ops:ops-secret').toString('base64')}` },
    body: JSON.stringify({ topic, readQueueNums: 1, writeQueueNums: 1 }),
  });
  expect(res.status, await res.text()).toBe(201);
  const c = new RemotingClient();
  try {
    for (let i = 0; i < 400; i++) {
      const route = await c.invoke(server.namesrvAddr, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic } }));
      if (route.code === ResponseCode.SUCCESS) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${topic} never became routable`);
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  dataDir = tempDataDir('apg-cli-http-');
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'apogee.json');
  const auth = {
    allowAnonymous: true,
    anonymous: { admin: false },
    users: [
      { username: 'ops', password: await hashPassword('ops-secret'), admin: true },
      { username: 'dev', password: await hashPassword('dev-secret'), admin: false },
    ],
  };
  fs.writeFileSync(file, JSON.stringify({ auth }));
  server = await ServerProcess.start(path.join(dataDir, 'data'), undefined, ['--config', file]);
});

afterAll(async () => {
  await killAllStarted();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('apogee CLI over the HTTP admin API', () => {
  it('lists an MQTT client with its subscription and disconnects it', async () => {
    const client = mqtt.connect(server.mqttUrl, {
      clientId: 'cli-http-dev',
      protocolVersion: 5,
      reconnectPeriod: 0,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    await new Promise<void>((resolve, reject) => client.once('connect', () => resolve()).once('error', reject));
    await client.subscribeAsync('sensors/+/temp', { qos: 1 });
    try {
      const listed = json(await cli(['mqtt', 'clients', '--json', '--prefix', 'cli-http']));
      expect(listed.clients).toEqual([
        expect.objectContaining({
          clientId: 'cli-http-dev',
          connected: true,
          protocolVersion: 5,
          subscriptions: [expect.objectContaining({ filter: 'sensors/+/temp', qos: 1 })],
        }),
      ]);
      const text = await cli(['mqtt', 'clients']);
      expect(text.stdout).toMatch(/cli-http-dev\s+connected\s+5\.0\s+127\.0\.0\.1:\d+\s+-\s+0\s+sensors\/\+\/temp\(1\)/);
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      const gone = await cli(['mqtt', 'disconnect', 'cli-http-dev']);
      expect(gone.code, gone.stderr).toBe(0);
      expect(gone.stdout.trim()).toBe('disconnected MQTT client cli-http-dev');
      await closed;
      // The persistent session stays, offline.
      expect(json(await cli(['mqtt', 'clients', '--all', '--json', '--prefix', 'cli-http'])).clients).toEqual([
        expect.objectContaining({ clientId: 'cli-http-dev', connected: false, persistent: true }),
      ]);
      const again = await cli(['mqtt', 'disconnect', 'cli-http-dev']);
      expect(again.code).toBe(1);
      expect(again.stderr.trim()).toBe('error: 404 NOT_FOUND MQTT client cli-http-dev is not connected');
    } finally {
      client.end(true);
    }
  });

  it('lists AMQP connections with their links and credit', async () => {
    const container = rhea.create_container({ id: 'cli-http-amqp' });
    const conn = container.connect({ host: '127.0.0.1', port: server.amqpPort, reconnect: false });
    const receiver = conn.open_receiver({ source: { address: 'cli-http-queue' }, credit_window: 7 });
    await new Promise<void>((resolve) => receiver.once('receiver_open', () => resolve()));
    try {
      const { connections } = json(await cli(['amqp', 'connections', '--json']));
      const mine = connections.find((c: { containerId: string }) => c.containerId === 'cli-http-amqp');
      expect(mine.links).toEqual([expect.objectContaining({ role: 'sender', address: 'cli-http-queue', credit: 7 })]);
      expect((await cli(['amqp', 'connections'])).stdout).toMatch(/cli-http-amqp .* out\s+cli-http-queue\s+7\s+0/);
    } finally {
      conn.close();
    }
  });

  it('skips a group backlog and resets it to a time', async () => {
    await createTopic('CliHttpT');
    const producer = new Producer({ nameServer: server.namesrvAddr, group: 'cli-http-pg' });
    await producer.start();
    const puller = new PullConsumer({ nameServer: server.namesrvAddr, group: 'cli-http-cg' });
    await puller.start();
    try {
      for (let i = 0; i < 4; i++) await producer.send({ topic: 'CliHttpT', body: `m${i}` });
      const [queue] = await puller.fetchSubscribeQueues('CliHttpT');
      const r = await puller.pull(queue!, MessageSelector.byTag('*'), 0, 1);
      await puller.commitOffset(queue!, r.nextBeginOffset);
    } finally {
      await puller.shutdown();
      await producer.shutdown();
    }
    const skipped = json(await cli(['group', 'skip-backlog', 'cli-http-cg', '--json']));
    expect(skipped.queues).toEqual([{ topic: 'CliHttpT', queueId: 0, from: 1, to: 4 }]);
    const reset = await cli(['group', 'reset-offset', 'cli-http-cg', '--time', '1970-01-01T00:00:00Z', '--topic', 'CliHttpT']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/CliHttpT\s+0\s+4\s+0/);
    const bad = await cli(['group', 'reset-offset', 'cli-http-cg', '--time', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--time needs epoch milliseconds or an ISO 8601 time/);
    const unknown = await cli(['group', 'skip-backlog', 'no-such-group']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: 404 NOT_FOUND /);
  });

  it('recalls a pending timer message', async () => {
    await createTopic('CliHttpTimer');
    const producer = new Producer({ nameServer: server.namesrvAddr, group: 'cli-http-tpg' });
    await producer.start();
    try {
      const sent = await producer.send({ topic: 'CliHttpTimer', body: 'later', deliverTimeMs: Date.now() + 3_600_000 });
      const r = await cli(['timer', 'recall', sent.msgId]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`recalled timer message ${sent.msgId}`);
      const twice = await cli(['timer', 'recall', sent.msgId]);
      expect(twice.code).toBe(1);
      expect(twice.stderr).toMatch(/^error: 404 NOT_FOUND no pending timer message/);
    } finally {
      await producer.shutdown();
    }
  });

  it('shows the ACL without secrets, and refuses wrong passwords, non-admins and an unreachable API clearly', async () => {
    const acl = json(await cli(['acl', 'show', '--json']));
    expect(acl.users.map((u: { username: string; admin: boolean }) => [u.username, u.admin])).toEqual([
      ['ops', true],
      ['dev', false],
    ]);
    expect(JSON.stringify(acl)).not.toMatch(/scrypt|ops-secret/);
    const wrong = await cli(['acl', 'show'], { APOGEE_USER: 'ops', APOGEE_PASSWORD: 'nope' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: 401 UNAUTHENTICATED /);
    const dev = await cli(['acl', 'show', '--user', 'dev', '--password', 'dev-secret'], {});
    expect(dev.code).toBe(1);
    expect(dev.stderr).toMatch(/^error: 403 FORBIDDEN /);
    const anonymous = await cli(['mqtt', 'clients'], {});
    expect(anonymous.stderr).toMatch(/^error: 40[13] /);
    const noUser = await cli(['acl', 'show', '--password', 'x'], {});
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toMatch(/--password needs --user/);
    const closedPort = await freePort();
    const away = await cli(['acl', 'show', '--http', `http://127.0.0.1:${closedPort}`]);
    expect(away.code).toBe(1);
    expect(away.stderr).toMatch(new RegExp(`^error: cannot reach the HTTP admin API at http://127\\.0\\.0\\.1:${closedPort}: .*ECONNREFUSED`));
    const notUrl = await cli(['acl', 'show', '--http', 'ftp://x']);
    expect(notUrl.code).toBe(1);
    expect(notUrl.stderr).toMatch(/--http needs an http:\/\/ or https:\/\/ URL/);
  });
  it('creates, changes and deletes a user and switches anonymous access, keeping what it is not told to change', async () => {
    const created = await cli(['acl', 'set-user', 'device', '--publish', 'dev/#', '--publish', 'fleet/#', '--json'], {
      APOGEE_USER: 'ops',
      APOGEE_PASSWORD: 'ops-secret',
      APOGEE_NEW_PASSWORD: 'dev-pw',
    });
    expect(json(created)).toMatchObject({ username: 'device', admin: false, password: true, publish: { allow: ['dev/#', 'fleet/#'], deny: [] } });
    const [host, port] = server.mqttUrl.slice('mqtt://'.length).split(':');
    const device = await mqtt.connectAsync({
      host,
      port: Number(port),
      protocolVersion: 5,
      clientId: 'cli-device',
      username: 'device',
      password: 'dev-pw',
      reconnectPeriod: 0,
    });
    try {
      await device.publishAsync('fleet/1', 'x', { qos: 1 });
      // Only the deny list changes: the allow list and the password stay.
      const changed = await cli(['acl', 'set-user', 'device', '--publish-deny', 'fleet/secret']);
      expect(changed.code, changed.stderr).toBe(0);
      expect(changed.stdout).toBe('updated user device\n');
      const shown = json(await cli(['acl', 'show', '--json'])).users.find((u: { username: string }) => u.username === 'device');
      expect(shown).toMatchObject({ password: true, publish: { allow: ['dev/#', 'fleet/#'], deny: ['fleet/secret'] } });
      await expect(device.publishAsync('fleet/secret', 'x', { qos: 1 })).rejects.toThrow(/Not authorized/);
      const again = await mqtt.connectAsync({
        host,
        port: Number(port),
        protocolVersion: 5,
        clientId: 'cli-device-2',
        username: 'device',
        password: 'dev-pw',
        reconnectPeriod: 0,
      });
      await again.endAsync();

      const noPassword = await cli(['acl', 'set-user', 'newbie']);
      expect(noPassword.code).toBe(2);
      expect(noPassword.stderr).toMatch(/user newbie is new: give it a password/);
      const badAdmin = await cli(['acl', 'set-user', 'device', '--admin', 'maybe']);
      expect(badAdmin.code).toBe(2);
      expect(badAdmin.stderr).toMatch(/--admin takes yes or no/);
      const lockout = await cli(['acl', 'set-user', 'ops', '--admin', 'no']);
      expect(lockout.code).toBe(1);
      expect(lockout.stderr).toMatch(/^error: 409 CONFLICT .*no admin could log in/);

      const off = await cli(['acl', 'anonymous', '--allow', 'no']);
      expect(off.stdout).toBe('anonymous clients: refused\n');
      await expect(mqtt.connectAsync({ host, port: Number(port), protocolVersion: 5, clientId: 'cli-anon', reconnectPeriod: 0 })).rejects.toThrow(
        /Not authorized/,
      );
      expect((await cli(['acl', 'anonymous', '--allow', 'yes'])).stdout).toBe('anonymous clients: accepted\n');

      expect((await cli(['acl', 'delete-user', 'device'])).stdout).toBe('deleted user device\n');
      await expect(device.publishAsync('dev/1', 'x', { qos: 1 })).rejects.toThrow(/Not authorized/);
      const gone = await cli(['acl', 'delete-user', 'device']);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/^error: 404 NOT_FOUND no user device/);
    } finally {
      await device.endAsync(true);
    }
  });
});
