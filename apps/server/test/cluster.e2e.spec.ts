/**
 * A cluster of processes as `npm run namesrv` and `npm run broker` start them (README, "A
 * cluster"): two standalone NameServers, two broker groups of one broker each (broker-a,
 * broker-b) registered with both. A topic spread over both groups takes a producer's sends on
 * both; with one group SIGKILLed, sends go on to the other (the producer retries there), and with
 * one NameServer gone the other still routes. After broker-b restarts on its data directory,
 * every acknowledged message is read back from the group that acknowledged it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Producer, PullConsumer, type SendResult } from '@apogee/client';
import { hashPassword } from '@apogee/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Namesrv, killNamesrv, routedBrokers, startNamesrv, until } from './cluster-helpers.js';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, freePorts, killAllStarted, tempDataDir } from './server-process.js';

const TOPIC = 'ClusterT';

describe('a cluster of two NameServers and two broker groups', { timeout: 120_000 }, () => {
  let dir: string;
  const namesrvs: Namesrv[] = [];
  const brokers = new Map<string, ServerProcess>();
  const acked = new Map<string, SendResult>();
  let producer: Producer;
  let namesrvList: string;

  const startBroker = async (name: string): Promise<ServerProcess> => {
    const flags = [
      '--role',
      'broker',
      '--namesrv',
      namesrvList,
      '--broker-name',
      name,
      '--cluster-name',
      'TwoGroups',
      '--mqtt-port',
      'off',
      '--amqp-port',
      'off',
    ];
    const b = await ServerProcess.start(path.join(dir, name), await freePorts(), flags);
    brokers.set(name, b);
    return b;
  };

  const send = async (n: number, prefix: string): Promise<number> => {
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const body = `${prefix}-${i}`;
      const r = await producer.send({ topic: TOPIC, body: Buffer.from(body) });
      acked.set(body, r);
      ok++;
    }
    return ok;
  };

  beforeAll(async () => {
    dir = tempDataDir('apg-cluster-');
    namesrvs.push(await startNamesrv(), await startNamesrv());
    namesrvList = namesrvs.map((n) => n.addr).join(';');
    for (const name of ['broker-a', 'broker-b']) {
      const b = await startBroker(name);
      await createTopic(b.brokerAddr, namesrvs[0]!.addr, TOPIC, 4);
    }
    for (const n of namesrvs) await until(`both groups on ${n.addr}`, async () => (await routedBrokers(n.addr, TOPIC)).length === 2);
    producer = new Producer({ nameServer: namesrvList, group: 'cluster-pg', retryTimes: 2, sendTimeoutMs: 3000 });
    await producer.start();
  }, 120_000);

  afterAll(async () => {
    await producer?.shutdown();
    await killAllStarted();
    for (const n of namesrvs) await killNamesrv(n);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a broker without a NameServer of its own, registered with both NameServers', async () => {
    const a = brokers.get('broker-a')!;
    expect(a.output).toContain('no NameServer here');
    const cluster = (await (await fetch(`http://${a.httpAddr}/api/v1/cluster`)).json()) as {
      clusterName: string;
      brokers: Array<{ listeners: Record<string, unknown> }>;
    };
    expect(cluster.clusterName).toBe('TwoGroups');
    expect(cluster.brokers[0]!.listeners['namesrv']).toBeNull();
    for (const n of namesrvs) expect(await routedBrokers(n.addr, TOPIC)).toEqual(['broker-a', 'broker-b']);
  });

  it('spreads sends over both groups', async () => {
    expect(await send(80, 'both')).toBe(80);
    const by = new Set([...acked.values()].map((r) => r.messageQueue.brokerName));
    expect([...by].sort()).toEqual(['broker-a', 'broker-b']);
  });

  it('keeps sending to the other group while one is down, and through the other NameServer', async () => {
    await brokers.get('broker-b')!.kill();
    // Every send is acknowledged: an attempt on the dead group fails over to broker-a.
    expect(await send(60, 'one-down')).toBe(60);
    for (const [body, r] of acked) if (body.startsWith('one-down')) expect(r.messageQueue.brokerName).toBe('broker-a');
    await killNamesrv(namesrvs[0]!);
    expect(await send(20, 'one-namesrv')).toBe(20);
  });

  it('has every acknowledged message in the group that acknowledged it after the restart', async () => {
    await startBroker('broker-b');
    await until('broker-b routed again', async () => (await routedBrokers(namesrvs[1]!.addr, TOPIC)).includes('broker-b'));
    const reader = new PullConsumer({ nameServer: namesrvs[1]!.addr, group: 'cluster-reader' });
    await reader.start();
    try {
      const found = new Map<string, string>();
      for (const q of await reader.fetchSubscribeQueues(TOPIC)) {
        for (let offset = 0; ;) {
          const r = await reader.pull(q, '*', offset, 32);
          if (r.messages.length === 0) break;
          for (const m of r.messages) found.set(m.body.toString('utf8'), q.brokerName);
          offset = r.nextBeginOffset;
        }
      }
      const lost = [...acked].filter(([body, r]) => found.get(body) !== r.messageQueue.brokerName).map(([body]) => body);
      expect(lost).toEqual([]);
      expect(acked.size).toBe(160);
    } finally {
      await reader.shutdown();
    }
  });
});

describe('a broker alone registering with a NameServer that checks ACL', { timeout: 120_000 }, () => {
  it('signs its registrations with APOGEE_NAMESRV_ACCESS_KEY / _SECRET_KEY; unsigned ones are refused', async () => {
    const dir = tempDataDir('apg-cluster-acl-');
    const keys = { accessKey: 'broker-reg-key', secretKey: 'broker-reg-secret' };
    const file = path.join(dir, 'namesrv.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ auth: { allowAnonymous: false, users: [{ username: 'brokers', password: await hashPassword('x'), ...keys, admin: true }] } }),
    );
    const ns = await startNamesrv(['--config', file]);
    try {
      const flags = (name: string) => ['--role', 'broker', '--namesrv', ns.addr, '--broker-name', name, '--mqtt-port', 'off', '--amqp-port', 'off'];
      const unsigned = await ServerProcess.start(path.join(dir, 'unsigned'), await freePorts(), flags('broker-u'));
      Object.assign(process.env, { APOGEE_NAMESRV_ACCESS_KEY: keys.accessKey, APOGEE_NAMESRV_SECRET_KEY: keys.secretKey });
      const signed = await ServerProcess.start(path.join(dir, 'signed'), await freePorts(), flags('broker-s'));
      await until('the signed broker routed', async () => (await routedBrokers(ns.addr, 'TBW102', keys)).includes('broker-s'));
      expect(await routedBrokers(ns.addr, 'TBW102', keys)).toEqual(['broker-s']);
      await until('the refusal logged', async () => /No accessKey is configured.*NameServer refused registration/.test(unsigned.output));
      expect(ns.output()).toMatch(/"brokerName":"broker-u".*No accessKey is configured/);
      await signed.stop();
      await unsigned.stop();
    } finally {
      delete process.env['APOGEE_NAMESRV_ACCESS_KEY'];
      delete process.env['APOGEE_NAMESRV_SECRET_KEY'];
      await killAllStarted();
      await killNamesrv(ns);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
