// GET_BROKER_RUNTIME_INFO (28) with the service's runtimeInfoExtra: the HA fields a replicated
// group's broker adds (brokerRole, masterEpoch, …) come with the broker's own figures, are read at
// each request, never replace those figures, and a provider that throws does not fail the request.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Broker } from '@apogee/broker';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { openStore, type MessageStore } from '@apogee/store';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerRemotingService, type BrokerServiceOptions } from '../src/index.js';

const opened: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
});

/** A store, an engine and the remoting endpoint on a free loopback port (no NameServer). */
async function start(runtimeInfoExtra?: BrokerServiceOptions['runtimeInfoExtra']): Promise<(code?: number) => Promise<Record<string, string>>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-rti-'));
  const store: MessageStore = await openStore({ dataDir: path.join(dir, 'store'), segmentSize: 1024 * 1024 });
  const broker = await Broker.open({ store, configDir: path.join(dir, 'config') });
  const service = new BrokerRemotingService({
    broker,
    advertisedAddr: '127.0.0.1:0',
    namesrvAddrs: [],
    logger: { info() {}, warn() {}, error() {} },
    ...(runtimeInfoExtra ? { runtimeInfoExtra } : {}),
  });
  const addr = await service.start(0, '127.0.0.1');
  const client = new RemotingClient({ requestTimeoutMs: 10_000 });
  opened.push(async () => {
    client.close();
    await service.close();
    await broker.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return async (code = RequestCode.GET_BROKER_RUNTIME_INFO) => {
    const res = await client.invoke(addr, makeRequest(code));
    expect(res.code, res.remark).toBe(ResponseCode.SUCCESS);
    return JSON.parse(res.body!.toString('utf8')).table as Record<string, string>;
  };
}

describe('GET_BROKER_RUNTIME_INFO: runtimeInfoExtra', () => {
  it('answers only the broker figures without a provider', async () => {
    const info = await start();
    const table = await info();
    expect(table).toMatchObject({ brokerVersionDesc: 'Apogee', commitLogMaxOffset: '0' });
    expect(table['brokerRole']).toBeUndefined();
  });

  it("adds the provider's fields, read again at every request", async () => {
    let epoch = 1;
    const info = await start(() => ({ brokerRole: 'SYNC_MASTER', masterEpoch: String(epoch), inSyncSlaveNums: '1' }));
    expect(await info()).toMatchObject({ brokerRole: 'SYNC_MASTER', masterEpoch: '1', inSyncSlaveNums: '1', commitLogMaxOffset: '0' });
    epoch = 2;
    expect((await info())['masterEpoch']).toBe('2');
  });

  it("keeps the broker's own figures when the provider names them too, and drops values that are not strings", async () => {
    const info = await start(() => ({ commitLogMaxOffset: '999', brokerVersionDesc: 'other', brokerRole: 'SLAVE', bad: 7 as unknown as string }));
    const table = await info();
    expect(table).toMatchObject({ commitLogMaxOffset: '0', brokerVersionDesc: 'Apogee', brokerRole: 'SLAVE' });
    expect(table['bad']).toBeUndefined();
  });

  it('answers the broker figures and says why when the provider throws', async () => {
    const info = await start(() => {
      throw new Error('replication view gone');
    });
    const table = await info();
    expect(table['commitLogMaxOffset']).toBe('0');
    expect(table['brokerRole']).toBeUndefined();
    expect(table['runtimeInfoError']).toMatch(/replication view gone/);
  });
});
