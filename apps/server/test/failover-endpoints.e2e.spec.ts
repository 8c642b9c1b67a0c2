/**
 * Failover of a broker group on etcd as an AMQP client sees it: two brokers with `--controller`,
 * `--replication sync` and `--flush sync`, each with its AMQP port (only the master's listens). A
 * rhea receiver makes a durable subscription (container id + link name) on the master and goes
 * offline; a sender sends at least once (the test tries each port until one accepts). The master
 * is SIGKILLed; the replica is elected; the sender moves to it; then the receiver comes back on
 * the new master and resumes its subscription there: every message the sender had acknowledged
 * (accepted), before and after the kill, reaches it — the subscription and its position
 * replicated with the log (the store's metadata feed over the HA connection).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Rhea from 'rhea';
import { type TestEtcd, skipWithoutEtcd, startEtcd } from '@apogee/etcd/test-etcd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Namesrv, killNamesrv, startNamesrv, until } from './cluster-helpers.js';
import { brokerView, controlledBrokerFlags } from './group-helpers.js';
import { type ServerPorts, ServerProcess, freePort, freePorts, killAllStarted, tempDataDir } from './server-process.js';

const rhea = createRequire(import.meta.url)('rhea') as typeof Rhea;

const view = brokerView;

describe.skipIf(skipWithoutEtcd)('failover under an AMQP durable subscription', { timeout: 240_000 }, () => {
  const dir = tempDataDir('apg-failover-ep-');
  let etcd: TestEtcd;
  let namesrv: Namesrv;
  const brokers = new Map<number, { proc: ServerProcess; ports: ServerPorts }>();
  const closers: Array<() => unknown> = [];

  const startBroker = async (id: number): Promise<void> => {
    const ports = await freePorts();
    const proc = await ServerProcess.start(
      path.join(dir, `b${id}`),
      ports,
      controlledBrokerFlags({
        namesrv: namesrv.addr,
        etcd: etcd.endpoints,
        cluster: 'Endpoints',
        brokerName: 'broker-e',
        brokerId: id,
        haPort: await freePort(),
        endpoints: true,
      }),
    );
    brokers.set(id, { proc, ports });
  };

  const masterId = async (): Promise<number | null> => {
    const found: number[] = [];
    for (const [id, b] of brokers)
      if (b.proc.proc.exitCode === null && b.proc.proc.signalCode === null && (await view(b.proc))?.role === 'MASTER') found.push(id);
    return found.length === 1 ? found[0]! : null;
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    namesrv = await startNamesrv();
    await Promise.all([startBroker(1), startBroker(2)]);
  }, 120_000);

  afterAll(async () => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => {});
    await killAllStarted();
    if (namesrv) await killNamesrv(namesrv);
    await etcd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('resumes the durable AMQP subscription on the new master with every acknowledged message', async () => {
    await until('a master elected', async () => (await masterId()) !== null);
    const firstId = (await masterId())!;
    const otherId = firstId === 1 ? 2 : 1;
    const first = brokers.get(firstId)!;
    const other = brokers.get(otherId)!;
    await until('the replica in sync', async () => (await view(first.proc))?.replicas?.some((r) => r.inSync === true) === true);
    const amqpPorts = [first.ports.amqpPort, other.ports.amqpPort];

    // -- AMQP: a durable subscription (container id + link name) and an at-least-once sender --
    const amqpGot = new Set<string>();
    const durable = { name: 'fo-durable', source: { address: 'topic/fo/+', durable: 2, expiry_policy: 'never' }, autoaccept: true, credit_window: 50 };
    const connectAmqp = (containerId: string): Promise<Rhea.Connection> =>
      new Promise((resolve, reject) => {
        const tryPort = (i: number) => {
          if (i >= amqpPorts.length) return reject(new Error('no AMQP port accepts'));
          const c = rhea.create_container({ id: containerId }).connect({ host: '127.0.0.1', port: amqpPorts[i]!, reconnect: false });
          c.once('connection_open', () => resolve(c));
          c.once('disconnected', () => tryPort(i + 1));
          c.on('error', () => {});
        };
        tryPort(0);
      });
    const attachDurable = async (): Promise<Rhea.Connection> => {
      const c = await connectAmqp('fo-amqp-sub');
      const r = c.open_receiver(durable as never);
      r.on('message', (ctx) => amqpGot.add(String(ctx.message?.body)));
      await new Promise((res) => r.once('receiver_open', res));
      return c;
    };
    // Attached once (the subscription is created), then detached until after the failover.
    const once = await attachDurable();
    once.close();
    await new Promise((r) => setTimeout(r, 300));
    // The subscription reaches the replica with the next metadata batch.
    await new Promise((r) => setTimeout(r, 1500));

    const amqpAcked: string[] = [];
    let stop = false;
    const amqpLoad = (async () => {
      for (let attempt = 0; !stop && attempt < 100; attempt++) {
        let conn: Rhea.Connection;
        try {
          conn = await connectAmqp(`fo-amqp-pub-${attempt}`);
        } catch {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const snd = conn.open_sender({ target: { address: 'topic/fo/a' } });
        const pending = new Map<Rhea.Delivery, (outcome: string) => void>();
        const settle = (outcome: string) => (ctx: Rhea.EventContext) => {
          const done = ctx.delivery && pending.get(ctx.delivery);
          if (ctx.delivery) pending.delete(ctx.delivery);
          done?.(outcome);
        };
        for (const o of ['accepted', 'rejected', 'released', 'modified'] as const) snd.on(o, settle(o));
        let gone = false;
        conn.on('disconnected', () => {
          gone = true;
          for (const done of pending.values()) done('lost');
          pending.clear();
        });
        await new Promise((res) => {
          snd.once('sendable', res);
          conn.once('disconnected', res);
        });
        for (let i = 0; !stop && !gone && i < 50_000; i++) {
          const body = `am-${attempt}-${i}`;
          const outcome = await new Promise<string>((res) => pending.set(snd.send({ body } as never), res));
          if (outcome === 'accepted') amqpAcked.push(body);
          else break;
        }
        conn.close();
      }
    })();

    await until('AMQP sends acknowledged before the kill', () => amqpAcked.length >= 100);
    await first.proc.kill();
    await until('the replica elected', async () => (await masterId()) === otherId, 600);
    const a0 = amqpAcked.length;
    await until('AMQP sends acknowledged by the new master', () => amqpAcked.length >= a0 + 100, 600);
    stop = true;
    await amqpLoad;
    // Back on the new master: the durable subscription resumes there.
    const subConn = await attachDurable();
    closers.push(() => subConn.close());
    await until('every acknowledged AMQP message at the durable subscription', () => amqpAcked.every((b) => amqpGot.has(b)), 600);
    expect(amqpAcked.filter((b) => !amqpGot.has(b))).toEqual([]);
  });
});
