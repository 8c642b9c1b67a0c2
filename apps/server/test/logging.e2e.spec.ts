/**
 * What an operator reads: a refused request is a warning naming the client, the request and the
 * reason; --log-level warn keeps the info lines out; a bad level stops the server at start with a
 * clear message. A real server process, real sockets.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { afterAll, describe, expect, it } from 'vitest';
import { RawRemoting } from './raw-remoting.js';
import { eventually } from './remoting-helpers.js';
import { ServerProcess, freePorts, killAllStarted, tempDataDir } from './server-process.js';

const dirs: string[] = [];
afterAll(async () => {
  await killAllStarted();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = tempDataDir('apg-logs-');
  dirs.push(d);
  return d;
}

const UNKNOWN_CODE = 9999;

describe('server logs', () => {
  it('warns about a refused request, naming the client address and id, the request code and the reason', async () => {
    const server = await ServerProcess.start(dataDir());
    const raw = await RawRemoting.connect(server.brokerAddr);
    try {
      const hb = await raw.request(
        makeRequest(RequestCode.HEART_BEAT, { body: Buffer.from(JSON.stringify({ clientID: 'e2e-client@1', producerDataSet: [], consumerDataSet: [] })) }),
      );
      expect(hb.code).toBe(ResponseCode.SUCCESS);
      const res = await raw.request(makeRequest(UNKNOWN_CODE, { extFields: { topic: 'SomeTopic' } }));
      expect(res.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
      const refused = () => server.logs().find((l) => l['msg'] === 'broker: request refused' && l['requestCode'] === UNKNOWN_CODE);
      await eventually(() => refused() !== undefined, 'the warning about the unknown request code');
      expect(refused()).toMatchObject({
        level: 'warn',
        remote: raw.localAddr,
        clientId: 'e2e-client@1',
        request: `UNKNOWN(${UNKNOWN_CODE})`,
        topic: 'SomeTopic',
        response: 'REQUEST_CODE_NOT_SUPPORTED',
        remark: `request code ${UNKNOWN_CODE} not supported`,
      });
      // A pull that finds nothing new is the pull protocol working, not a refusal.
      const create = await raw.request(
        makeRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, {
          extFields: { topic: 'Quiet', defaultTopic: 'TBW102', readQueueNums: '1', writeQueueNums: '1', perm: '6', topicFilterType: 'SINGLE_TAG' },
        }),
      );
      expect(create.code).toBe(ResponseCode.SUCCESS);
      const pull = await raw.request(
        makeRequest(RequestCode.PULL_MESSAGE, {
          extFields: {
            consumerGroup: 'G',
            topic: 'Quiet',
            queueId: '0',
            queueOffset: '0',
            maxMsgNums: '1',
            sysFlag: String(4), // SUBSCRIPTION: the pull carries its own subscription
            commitOffset: '0',
            suspendTimeoutMillis: '0',
            subscription: '*',
            subVersion: '0',
          },
        }),
      );
      expect(pull.code).toBe(ResponseCode.PULL_NOT_FOUND);
    } finally {
      raw.close();
    }
    expect(await server.stop()).toBe(0);
    expect(server.logs().filter((l) => l['level'] === 'warn' && l['request'] === 'PULL_MESSAGE')).toEqual([]);
  });

  it('--log-level warn keeps info lines out and still writes the warnings', async () => {
    const ports = await freePorts();
    const server = ServerProcess.spawn(dataDir(), ports, ['--log-level', 'warn']);
    const client = new RemotingClient({ requestTimeoutMs: 2000 });
    try {
      // No "ready" line to wait for at this level: the broker answering is the sign.
      let answered = false;
      while (!answered) {
        if (server.proc.exitCode !== null) throw new Error(`server exited (${server.proc.exitCode}):\n${server.output}`);
        answered = await client.invoke(server.brokerAddr, makeRequest(UNKNOWN_CODE)).then(
          (r) => r.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
          () => false,
        );
        if (!answered) await new Promise((r) => setTimeout(r, 100));
      }
      await eventually(() => server.logs().some((l) => l['requestCode'] === UNKNOWN_CODE), 'the warning');
    } finally {
      client.close();
    }
    expect(await server.stop()).toBe(0);
    const levels = new Set(server.logs().map((l) => l['level']));
    expect([...levels]).toEqual(['warn']);
    expect(server.output).not.toContain('apogee: ready');
  });

  it('--log-level bogus stops the server at start with a clear message', async () => {
    const repoRoot = path.resolve(import.meta.dirname, '../../..');
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'apps/server/src/main.ts'), '--log-level', 'bogus'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(err).toBe('apogee: --log-level: log level must be one of trace, debug, info, warn, error, fatal, silent; got "bogus"\n');
  });
});
