/**
 * A broker group of two processes as `npm run broker` starts them (docs/cluster.md): a master with
 * `--ha-port` and a replica with `--ha-master` and `--broker-id 1`, registered with one standalone
 * NameServer. The replica's commit log is the master's byte for byte and its queues hold the same
 * messages at the same offsets — also after the replica was SIGKILLed in the middle of the stream
 * and restarted on its data directory; it refuses sends and END_TRANSACTION as a RocketMQ slave
 * does, serves pulls, and the NameServer routes the group with both brokers (ids 0 and 1).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Producer } from '@apogee/client';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Namesrv, killNamesrv, startNamesrv, topicRoute, until } from './cluster-helpers.js';
import { type BrokerView, brokerView, commitLogBytes, hasTopic, pullAll } from './group-helpers.js';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, freePort, freePorts, killAllStarted, tempDataDir } from './server-process.js';

const TOPIC = 'ReplicaT';
const QUEUES = 4;

const pullBodies = (addr: string) => pullAll(addr, TOPIC, QUEUES);

/** The broker's view of itself (it must answer). */
async function viewOf(s: ServerProcess): Promise<BrokerView> {
  const v = await brokerView(s);
  if (!v) throw new Error(`${s.httpAddr} does not answer`);
  return v;
}

async function request(addr: string, code: number, extFields: Record<string, string>, body?: Buffer) {
  const c = new RemotingClient();
  try {
    return await c.invoke(addr, makeRequest(code, { extFields, ...(body ? { body } : {}) }));
  } finally {
    c.close();
  }
}

describe('a broker group of a master and a replica process', { timeout: 180_000 }, () => {
  const dir = tempDataDir('apg-replica-');
  let namesrv: Namesrv;
  let master: ServerProcess;
  let replica: ServerProcess;
  let replicaFlags: string[];
  const replicaPorts = freePorts();
  const acked: string[] = [];

  const sendMany = async (prefix: string, n: number): Promise<void> => {
    const producer = new Producer({ nameServer: namesrv.addr, group: `replica-pg-${prefix}`, sendTimeoutMs: 5000 });
    await producer.start();
    try {
      // A few sends in flight at a time, so the stream carries multi-record chunks.
      for (let i = 0; i < n; i += 8) {
        const batch = Array.from({ length: Math.min(8, n - i) }, (_, k) => `${prefix}-${i + k}-${'x'.repeat((i + k) % 300)}`);
        await Promise.all(batch.map((body) => producer.send({ topic: TOPIC, body: Buffer.from(body) }).then(() => acked.push(body))));
      }
    } finally {
      await producer.shutdown();
    }
  };

  const caughtUp = async (): Promise<boolean> => {
    const [m, r] = await Promise.all([viewOf(master), viewOf(replica)]);
    return r.following?.connected === true && r.store.maxCommitLogOffset === m.store.maxCommitLogOffset && r.following.lagBytes === 0;
  };

  beforeAll(async () => {
    namesrv = await startNamesrv();
    const haPort = await freePort();
    const group = ['--role', 'broker', '--namesrv', namesrv.addr, '--broker-name', 'broker-r', '--cluster-name', 'Replicated', '--flush', 'sync'];
    master = await ServerProcess.start(path.join(dir, 'master'), await freePorts(), [...group, '--ha-port', String(haPort)]);
    replicaFlags = [...group, '--ha-master', `127.0.0.1:${haPort}`, '--broker-id', '1'];
    replica = await ServerProcess.start(path.join(dir, 'replica'), await replicaPorts, replicaFlags);
    await createTopic(master.brokerAddr, namesrv.addr, TOPIC, QUEUES);
    // Created on the master only: the topic config reaches the replica with the metadata feed.
    await until('the topic config on the replica', () => hasTopic(replica, TOPIC));
  }, 120_000);

  afterAll(async () => {
    await killAllStarted();
    if (namesrv) await killNamesrv(namesrv);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('registers the group with the master as id 0 and the replica as id 1', async () => {
    await until('both brokers in the route', async () => {
      const route = await topicRoute(namesrv.addr, TOPIC);
      return Object.keys(route?.brokerDatas[0]?.brokerAddrs ?? {}).length === 2;
    });
    const route = await topicRoute(namesrv.addr, TOPIC);
    expect(route!.brokerDatas[0]!.brokerAddrs).toEqual({ '0': master.brokerAddr, '1': replica.brokerAddr });
    expect((await viewOf(replica)).role).toBe('SLAVE');
    expect((await viewOf(master)).role).toBe('MASTER');
  });

  it("holds the master's commit log byte for byte and serves the same messages at the same offsets", async () => {
    await sendMany('first', 250);
    await until('the replica caught up', caughtUp);
    const end = (await viewOf(master)).store.maxCommitLogOffset;
    expect(commitLogBytes(replica.dataDir, end).equals(commitLogBytes(master.dataDir, end))).toBe(true);
    const [onMaster, onReplica] = await Promise.all([pullBodies(master.brokerAddr), pullBodies(replica.brokerAddr)]);
    expect(onMaster.size).toBe(acked.length);
    expect(onReplica).toEqual(onMaster);
  });

  it('refuses sends and END_TRANSACTION on the replica, as a RocketMQ slave does', async () => {
    const send = await request(
      replica.brokerAddr,
      RequestCode.SEND_MESSAGE,
      {
        producerGroup: 'p',
        topic: TOPIC,
        defaultTopic: 'TBW102',
        defaultTopicQueueNums: '4',
        queueId: '0',
        sysFlag: '0',
        bornTimestamp: String(Date.now()),
        flag: '0',
        properties: '',
      },
      Buffer.from('to the replica'),
    );
    expect(send.code).toBe(ResponseCode.SERVICE_NOT_AVAILABLE);
    expect(send.remark).toMatch(/replica/);
    const end = await request(replica.brokerAddr, RequestCode.END_TRANSACTION, {
      producerGroup: 'p',
      tranStateTableOffset: '0',
      commitLogOffset: '0',
      commitOrRollback: '8',
      fromTransactionCheck: 'false',
      msgId: '0',
    });
    expect(end.code).toBe(ResponseCode.SLAVE_NOT_AVAILABLE);
    // Nothing reached the replica's log outside replication.
    await until('the replica caught up', caughtUp);
    const m = (await viewOf(master)).store.maxCommitLogOffset;
    expect((await viewOf(replica)).store.maxCommitLogOffset).toBe(m);
  });

  it('comes back equal after a SIGKILL in the middle of the stream', async () => {
    const load = sendMany('during', 400);
    // Kill the replica once part of this load has reached it.
    const before = (await viewOf(replica)).store.maxCommitLogOffset;
    await until('part of the load replicated', async () => (await viewOf(replica)).store.maxCommitLogOffset > before + 20_000);
    await replica.kill();
    await load;
    replica = await ServerProcess.start(replica.dataDir, await replicaPorts, replicaFlags);
    await until('the restarted replica caught up', caughtUp);
    const end = (await viewOf(master)).store.maxCommitLogOffset;
    expect(commitLogBytes(replica.dataDir, end).equals(commitLogBytes(master.dataDir, end))).toBe(true);
    const onReplica = await pullBodies(replica.brokerAddr);
    expect(acked.filter((b) => !onReplica.has(b))).toEqual([]);
    expect(onReplica).toEqual(await pullBodies(master.brokerAddr));
  });
});

describe('synchronous replication between a master and a replica process', { timeout: 180_000 }, () => {
  const dir = tempDataDir('apg-sync-');
  let namesrv: Namesrv;
  let master: ServerProcess;
  let replica: ServerProcess;
  let replicaFlags: string[];
  const replicaPorts = freePorts();
  let producer: Producer;
  let bigProducer: Producer;

  beforeAll(async () => {
    namesrv = await startNamesrv();
    const haPort = await freePort();
    const group = ['--role', 'broker', '--namesrv', namesrv.addr, '--broker-name', 'broker-s', '--cluster-name', 'Synced', '--flush', 'sync'];
    master = await ServerProcess.start(path.join(dir, 'master'), await freePorts(), [
      ...group,
      '--ha-port',
      String(haPort),
      '--replication',
      'sync',
      '--min-in-sync-replicas',
      '2',
    ]);
    replicaFlags = [...group, '--ha-master', `127.0.0.1:${haPort}`, '--broker-id', '1'];
    replica = await ServerProcess.start(path.join(dir, 'replica'), await replicaPorts, replicaFlags);
    await createTopic(master.brokerAddr, namesrv.addr, TOPIC, QUEUES);
    await until('the topic config on the replica', () => hasTopic(replica, TOPIC));
    producer = new Producer({ nameServer: namesrv.addr, group: 'sync-pg', sendTimeoutMs: 5000, retryTimes: 0 });
    await producer.start();
    bigProducer = new Producer({ nameServer: namesrv.addr, group: 'sync-big-pg', sendTimeoutMs: 5000, retryTimes: 0, compressOverBytes: 1 << 30 });
    await bigProducer.start();
  }, 120_000);

  afterAll(async () => {
    await producer?.shutdown();
    await bigProducer?.shutdown();
    await killAllStarted();
    if (namesrv) await killNamesrv(namesrv);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const inSync = async (): Promise<boolean> => {
    const res = await fetch(`http://${master.httpAddr}/api/v1/cluster`);
    const b = ((await res.json()) as { brokers: Array<{ replicas?: Array<{ inSync?: boolean }> }> }).brokers[0]!;
    return b.replicas?.some((r) => r.inSync === true) === true;
  };

  it('answers SLAVE_NOT_AVAILABLE while the replica is down and SEND_OK once it is back in sync', async () => {
    await until('the replica in sync', inSync);
    expect((await producer.send({ topic: TOPIC, body: Buffer.from('with the replica') })).status).toBe('SEND_OK');
    await replica.kill();
    await until('the replica out of the in-sync set', async () => !(await inSync()));
    expect((await producer.send({ topic: TOPIC, body: Buffer.from('alone') })).status).toBe('SLAVE_NOT_AVAILABLE');
    replica = await ServerProcess.start(replica.dataDir, await replicaPorts, replicaFlags);
    await until('the replica in sync again', inSync);
    expect((await producer.send({ topic: TOPIC, body: Buffer.from('with the replica again') })).status).toBe('SEND_OK');
    const metrics = await (await fetch(`http://${master.httpAddr}/metrics`)).text();
    expect(metrics).toMatch(/apogee_replication_shortfalls_total\{outcome="SLAVE_NOT_AVAILABLE"\} [1-9]/);
  });

  it('has every SEND_OK message on the replica when the master is SIGKILLed while the replica was suspended', async () => {
    await until('the replica in sync', inSync);
    const ok: string[] = [];
    let stop = false;
    const big = randomBytes(12 * 1024).toString('base64'); // uncompressed on the wire (bigProducer)
    const senders = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop && i < 2000; i++) {
        const body = `load-${w}-${i}-${big}`;
        try {
          const r = await bigProducer.send({ topic: TOPIC, body: Buffer.from(body) });
          if (r.status === 'SEND_OK') ok.push(body);
        } catch {
          // The master is gone: the send is not acknowledged.
        }
      }
    });
    await until('sends acknowledged with the replica in sync', () => ok.length >= 100);
    // The replica stops reading (a GC pause, a hung host) while sends go on for a few seconds:
    // more than socket buffers hold. Asynchronous replication would acknowledge them all.
    replica.proc.kill('SIGSTOP');
    const acked = ok.length;
    await new Promise((r) => setTimeout(r, 3500));
    await master.kill();
    stop = true;
    replica.proc.kill('SIGCONT');
    await Promise.all(senders);
    await until('the replica saw its master go', async () => (await viewOf(replica)).following?.connected === false);
    const onReplica = await pullBodies(replica.brokerAddr);
    expect(ok.length).toBeGreaterThanOrEqual(acked);
    expect(ok.filter((b) => !onReplica.has(b)).map((b) => b.slice(0, 16))).toEqual([]);
  });
});
