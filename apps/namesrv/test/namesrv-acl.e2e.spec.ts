/**
 * The standalone NameServer with `--config FILE` holding an `auth` section (issue 13 item 2):
 * RocketMQ ACL 1.0 signatures checked on every request, anonymous access off by config; a broker
 * registers by signing with one of the configured keys, or from a globally white-listed address.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeRegisterBrokerBody } from '@apogee/namesrv';
import { type AclCredentials, RemotingClient, RequestCode, ResponseCode, aclSigner, makeRequest } from '@apogee/remoting';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repoRoot, 'apps/namesrv/src/main.ts');
const started: ChildProcess[] = [];
const dirs: string[] = [];
const BROKER_KEYS = { accessKey: 'broker-a-key', secretKey: 'broker-a-secret' };
const acl = (message: string): string => `org.apache.rocketmq.acl.common.AclException: ${message}`;

afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null && p.pid) process.kill(p.pid, 'SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function configFile(auth: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-namesrv-acl-'));
  dirs.push(dir);
  const file = path.join(dir, 'apogee.json');
  fs.writeFileSync(file, JSON.stringify({ auth }));
  return file;
}

/** Starts `namesrv --port 0 --config FILE`; resolves with its address once it listens. */
async function startNamesrv(file: string): Promise<{ addr: string; proc: ChildProcess; output: () => string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--config', file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  for (let i = 0; i < 300 && !out.includes('listening') && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  const addr = /"addr":"([^"]+)"/.exec(out)?.[1];
  expect(addr, out).toMatch(/^127\.0\.0\.1:\d+$/);
  return { addr: addr!, proc, output: () => out };
}

function register(client: RemotingClient, addr: string) {
  const body = encodeRegisterBrokerBody({
    topicConfigs: [{ topicName: 'OrderTopic', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0, order: false }],
    dataVersion: { stateVersion: 0, timestamp: Date.now(), counter: 1 },
    filterServerList: [],
  });
  return client.invoke(
    addr,
    makeRequest(RequestCode.REGISTER_BROKER, {
      extFields: { brokerName: 'broker-a', brokerAddr: '127.0.0.1:10911', clusterName: 'DefaultCluster', haServerAddr: '127.0.0.1:10912', brokerId: '0' },
      body,
    }),
  );
}

const route = (client: RemotingClient, addr: string) =>
  client.invoke(addr, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'OrderTopic' } }));

function clientOf(creds?: AclCredentials): RemotingClient {
  return new RemotingClient(creds ? { beforeRequest: aclSigner(creds) } : {});
}

describe('namesrv --config with an auth section', () => {
  it('refuses unsigned and badly signed requests, registrations included; accepts a broker signing with a configured key', async () => {
    const ns = await startNamesrv(configFile({ allowAnonymous: false, users: [{ username: 'broker-a', ...BROKER_KEYS }] }));
    const anonymous = clientOf();
    const wrong = clientOf({ accessKey: BROKER_KEYS.accessKey, secretKey: 'not-the-secret' });
    const broker = clientOf(BROKER_KEYS);
    try {
      const unsignedReg = await register(anonymous, ns.addr);
      expect(unsignedReg.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(unsignedReg.remark).toBe(acl('No accessKey is configured'));
      expect((await register(wrong, ns.addr)).remark).toBe(acl('Check signature failed for accessKey=broker-a-key'));
      // Nothing was registered by the refused requests.
      expect((await route(broker, ns.addr)).code).toBe(ResponseCode.TOPIC_NOT_EXIST);

      const reg = await register(broker, ns.addr);
      expect(reg.code, reg.remark).toBe(ResponseCode.SUCCESS);
      expect((await route(broker, ns.addr)).code).toBe(ResponseCode.SUCCESS);
      const unsignedRoute = await route(anonymous, ns.addr);
      expect(unsignedRoute.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(unsignedRoute.remark).toBe(acl('No accessKey is configured'));
      const list = await anonymous.invoke(ns.addr, makeRequest(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
      expect(list.remark).toBe(acl('No accessKey is configured'));
    } finally {
      anonymous.close();
      wrong.close();
      broker.close();
    }
  });

  it('lets a globally white-listed address in unsigned', async () => {
    const ns = await startNamesrv(
      configFile({ allowAnonymous: false, users: [{ username: 'broker-a', ...BROKER_KEYS }], globalWhiteRemoteAddresses: ['127.0.0.*'] }),
    );
    const anonymous = clientOf();
    try {
      expect((await register(anonymous, ns.addr)).code).toBe(ResponseCode.SUCCESS);
      expect((await route(anonymous, ns.addr)).code).toBe(ResponseCode.SUCCESS);
    } finally {
      anonymous.close();
    }
  });

  it('stops at start on an invalid auth section, naming the setting', async () => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', main, '--port', '0', '--config', configFile({ users: [{ username: 'x', accessKey: 'only-half' }] })],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    started.push(proc);
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    expect(await new Promise((resolve) => proc.on('exit', resolve))).toBe(1);
    expect(err).toMatch(/auth\.users\[0\]: accessKey and secretKey go together/);
  });
});
