import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
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
    for (const [args, env] of [
      [['--log-level', 'loud'], {}],
      [[], { APOGEE_LOG_LEVEL: 'loud' }],
    ] as const) {
      const bad = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(bad);
      let text = '';
      bad.stderr!.on('data', (d) => (text += d));
      expect(await new Promise((resolve) => bad.on('exit', resolve))).toBe(1);
      expect(text).toMatch(/^namesrv: (--log-level|APOGEE_LOG_LEVEL): log level must be one of trace, debug, info, warn, error, fatal, silent; got "loud"/);
    }
  });

  it('--log-level warn: only warnings, among them the refused request naming the client and the request', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const proc = spawn(process.execPath, ['--import', 'tsx', main, '--port', String(port), '--log-level', 'warn'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(proc);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const client = new RemotingClient({ requestTimeoutMs: 2000 });
    try {
      // No "listening" line at this level: the NameServer answering is the sign it is up.
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`namesrv exited (${proc.exitCode}): ${out}`);
        const res = await client.invoke(`127.0.0.1:${port}`, makeRequest(9999)).catch(() => null);
        if (res) {
          expect(res.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      for (let i = 0; i < 100 && !out.includes('namesrv: request refused'); i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.close();
    }
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Shutting down is logged at info: nothing more is written.
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l['level'])).toEqual(['warn']);
    expect(lines[0]).toMatchObject({
      msg: 'namesrv: request refused',
      remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      request: 'UNKNOWN(9999)',
      requestCode: 9999,
      response: 'REQUEST_CODE_NOT_SUPPORTED',
    });
  });
});
