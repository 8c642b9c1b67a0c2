/**
 * Lookups of the replicated-group tests (replica, failover): a broker's place in its group from
 * the admin API, every message of a topic pulled from one broker, its commit-log bytes, whether
 * it knows a topic, and the command line of a broker whose group elects its master on etcd.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeRecords } from '@apogee/message';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { expect } from 'vitest';
import type { ServerProcess } from './server-process.js';

/** One broker as GET /api/v1/cluster shows it. */
export interface BrokerView {
  brokerId: number;
  role: 'MASTER' | 'SLAVE';
  epoch?: number;
  following?: { connected: boolean; lagBytes: number };
  replicas?: Array<{ inSync?: boolean }>;
  store: { maxCommitLogOffset: number };
}

/** The broker's view of itself; null while it does not answer (between two role stacks, or gone). */
export async function brokerView(s: ServerProcess): Promise<BrokerView | null> {
  try {
    const res = await fetch(`http://${s.httpAddr}/api/v1/cluster`);
    return ((await res.json()) as { brokers: BrokerView[] }).brokers[0]!;
  } catch {
    return null;
  }
}

/** Every message of `topic` on one broker, pulled over remoting from offset 0 of each queue: body → "queueId@queueOffset". */
export async function pullAll(brokerAddr: string, topic: string, queues: number): Promise<Map<string, string>> {
  const client = new RemotingClient({ requestTimeoutMs: 10_000 });
  const found = new Map<string, string>();
  try {
    for (let q = 0; q < queues; q++) {
      for (let offset = 0, guard = 0; guard < 10_000; guard++) {
        const res = await client.invoke(
          brokerAddr,
          makeRequest(RequestCode.PULL_MESSAGE, {
            extFields: {
              consumerGroup: 'group-check',
              topic,
              queueId: String(q),
              queueOffset: String(offset),
              maxMsgNums: '32',
              sysFlag: '4',
              commitOffset: '0',
              suspendTimeoutMillis: '0',
              subscription: '*',
              subVersion: '0',
            },
          }),
        );
        if (res.code !== ResponseCode.SUCCESS) {
          expect(res.code, res.remark ?? '').toBe(ResponseCode.PULL_NOT_FOUND);
          break;
        }
        for (const m of decodeRecords(res.body!)) found.set(m.body.toString('utf8'), `${m.queueId}@${m.queueOffset}`);
        offset = Number(res.extFields['nextBeginOffset']);
      }
    }
  } finally {
    client.close();
  }
  return found;
}

/** The commit-log bytes of a server's data directory up to `end`, segment files concatenated in order. */
export function commitLogBytes(dataDir: string, end: number): Buffer {
  const dir = path.join(dataDir, 'store', 'commitlog');
  const parts = fs
    .readdirSync(dir)
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f)));
  return Buffer.concat(parts).subarray(0, end);
}

/** Whether the broker knows the topic (its config, from the admin API). */
export async function hasTopic(s: ServerProcess, topic: string): Promise<boolean> {
  try {
    return (await fetch(`http://${s.httpAddr}/api/v1/topics/${topic}`)).status === 200;
  } catch {
    return false;
  }
}

/** The flags of a broker of a group that elects its master on etcd, synchronously replicated, SYNC_FLUSH. */
export function controlledBrokerFlags(o: {
  namesrv: string;
  etcd: string;
  cluster: string;
  brokerName: string;
  brokerId: number;
  haPort: number;
  endpoints?: boolean;
  extra?: string[];
}): string[] {
  return [
    '--role',
    'broker',
    '--namesrv',
    o.namesrv,
    '--broker-name',
    o.brokerName,
    '--cluster-name',
    o.cluster,
    '--controller',
    o.etcd,
    '--broker-id',
    String(o.brokerId),
    '--ha-port',
    String(o.haPort),
    '--replication',
    'sync',
    '--flush',
    'sync',
    ...(o.endpoints === true ? [] : ['--mqtt-port', 'off', '--amqp-port', 'off']),
    ...(o.extra ?? []),
  ];
}
