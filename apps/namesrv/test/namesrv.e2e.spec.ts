import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { encodeRegisterBrokerBody } from '@apogee/namesrv';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repoRoot, 'apps/namesrv/src/main.ts');
const started: ChildProcess[] = [];

afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null && p.pid) process.kill(p.pid, 'SIGKILL');
});

describe('namesrv process', () => {
  it('serves registrations and routes over TCP and stops cleanly on SIGTERM', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(proc);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 300 && !out.includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));
    const addr = /"addr":"([^"]+)"/.exec(out)?.[1];
    expect(addr, out).toMatch(/^127\.0\.0\.1:\d+$/);

    const client = new RemotingClient();
    try {
      const body = encodeRegisterBrokerBody({
        topicConfigs: [{ topicName: 'OrderTopic', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0, order: false }],
        dataVersion: { stateVersion: 0, timestamp: Date.now(), counter: 1 },
        filterServerList: [],
      });
      const reg = await client.invoke(
        addr!,
        makeRequest(RequestCode.REGISTER_BROKER, {
          extFields: { brokerName: 'broker-a', brokerAddr: '127.0.0.1:10911', clusterName: 'DefaultCluster', haServerAddr: '127.0.0.1:10912', brokerId: '0' },
          body,
        }),
      );
      expect(reg.code, reg.remark).toBe(ResponseCode.SUCCESS);
      const route = await client.invoke(addr!, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'OrderTopic' } }));
      expect(route.code).toBe(ResponseCode.SUCCESS);
      const data = JSON.parse(route.body!.toString('utf8')) as {
        brokerDatas: Array<{ brokerAddrs: Record<string, string> }>;
        queueDatas: Array<{ writeQueueNums: number }>;
      };
      expect(data.brokerDatas[0]!.brokerAddrs['0']).toBe('127.0.0.1:10911');
      expect(data.queueDatas[0]!.writeQueueNums).toBe(4);
      const missing = await client.invoke(addr!, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'Nope' } }));
      expect(missing.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    } finally {
      client.close();
    }
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped cleanly');
  });

  it('refuses bad options with a clear message', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', main, '--port', 'x'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(proc);
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    expect(await new Promise((resolve) => proc.on('exit', resolve))).toBe(1);
    expect(err).toMatch(/port must be an integer/);
  });
});
