import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerProcess, freePorts, killAllStarted, tempDataDir } from './server-process.js';

const dirs: string[] = [];
afterEach(async () => {
  await killAllStarted();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('apogee server process', () => {
  it('starts NameServer, broker and metrics, refuses a second start on the same directory, and stops cleanly on SIGTERM', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const a = await ServerProcess.start(dataDir, undefined, ['--flush', 'sync']);
    const logs = a.logs();
    expect(logs.find((l) => l['msg'] === 'apogee: store open')?.['flush']).toBe('SYNC_FLUSH');
    // The broker logs the address it advertises, and registered it with the NameServer.
    expect(logs.find((l) => String(l['msg']).startsWith('apogee: broker listening'))?.['advertised']).toBe(a.brokerAddr);
    const client = new RemotingClient();
    try {
      const res = await client.invoke(a.namesrvAddr, makeRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
      expect(res.code).toBe(ResponseCode.SUCCESS);
      expect(JSON.parse(res.body!.toString()).brokerAddrTable['broker-a'].brokerAddrs['0']).toBe(a.brokerAddr);
      const route = await client.invoke(a.namesrvAddr, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'TBW102' } }));
      expect(route.code).toBe(ResponseCode.SUCCESS);
    } finally {
      client.close();
    }
    const metrics = await (await fetch(`http://${a.httpAddr}/metrics`)).text();
    expect(metrics).toMatch(/^apogee_send_requests_total 0$/m);
    expect(metrics).toMatch(/^apogee_send_refusals_total\{reason="DISK_FULL"\} 0$/m);

    const b = ServerProcess.spawn(dataDir, await freePorts());
    expect(await b.exited).toBe(1);
    expect(b.output).toMatch(/is in use by process \d+/);

    expect(await a.stop()).toBe(0);
    expect(a.output).toContain('stopped cleanly');
    // The lock is the kernel's (flock on store/lock, never unlinked): free once the server is gone.
    expect(spawnSync('flock', ['--nonblock', path.join(dataDir, 'store', 'lock'), 'true']).status).toBe(0);
  });

  it('fails with a clear message when a port is taken', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const ports = await freePorts();
    const a = await ServerProcess.start(dataDir, ports);
    const other = tempDataDir();
    dirs.push(other);
    const b = ServerProcess.spawn(other, { ...(await freePorts()), brokerPort: ports.brokerPort });
    expect(await b.exited).toBe(1);
    expect(b.output).toContain(`cannot start the broker on 127.0.0.1:${ports.brokerPort}`);
    expect(await a.stop()).toBe(0);
  });

  it('rejects an unknown broker setting in the config file', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const cfg = path.join(dataDir, 'apogee.json');
    fs.writeFileSync(cfg, JSON.stringify({ broker: { autoCreateTopicEnabel: false } }));
    const s = ServerProcess.spawn(dataDir, await freePorts(), ['--config', cfg]);
    expect(await s.exited).toBe(1);
    expect(s.output).toContain('unknown broker setting "autoCreateTopicEnabel"');
  });
});
