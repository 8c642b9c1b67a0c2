/**
 * AMQP against a real server process: a SIGKILL under SYNC_FLUSH loses no accepted message, and
 * messages cross between AMQP, the native protocol (@apogee/client) and MQTT.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Producer, PushConsumer, type ReceivedMessage } from '@apogee/client';
import mqtt from 'mqtt';
import type * as Rhea from 'rhea';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './remoting-helpers.js';
import { ServerProcess, freePorts, killAllStarted, tempDataDir } from './server-process.js';

const rhea = createRequire(import.meta.url)('rhea') as typeof Rhea;

afterAll(killAllStarted);

function connect(port: number): Promise<Rhea.Connection> {
  const c = rhea.create_container({ id: `e2e-${Math.random().toString(36).slice(2)}` }).connect({ host: '127.0.0.1', port, reconnect: false });
  c.on('error', () => {});
  c.on('disconnected', () => {});
  return new Promise((resolve, reject) => {
    c.once('connection_open', () => resolve(c));
    c.once('connection_error', () => reject(new Error('connection error')));
  });
}

function receive(c: Rhea.Connection, address: string, got: string[]): Promise<Rhea.Receiver> {
  const r = c.open_receiver({ source: { address }, credit_window: 100 });
  r.on('message', (ctx) => {
    const b = ctx.message!.body as unknown;
    got.push(Buffer.isBuffer(b) ? b.toString() : typeof b === 'string' ? b : Buffer.from((b as { content: Buffer }).content).toString());
  });
  return new Promise((resolve) => r.once('receiver_open', () => resolve(r)));
}

describe('AMQP crash safety', () => {
  it('delivers every message settled accepted before a SIGKILL under SYNC_FLUSH after the restart', async () => {
    const dataDir = tempDataDir('apg-amqp-crash-');
    const ports = await freePorts();
    try {
      let server = await ServerProcess.start(dataDir, ports, ['--flush', 'sync']);
      const accepted = new Set<string>();
      const conns: Rhea.Connection[] = [];
      for (let w = 0; w < 4; w++) {
        const c = await connect(server.amqpPort);
        conns.push(c);
        const s = c.open_sender({ target: { address: 'crash-q' } });
        let i = 0;
        const bodies = new Map<number, string>();
        const pump = () => {
          while (s.sendable() && i < 100_000) {
            const body = `w${w}-${i++}`;
            bodies.set(s.send({ body }).id, body);
          }
        };
        s.on('sendable', pump);
        s.on('accepted', (ctx) => {
          accepted.add(bodies.get(ctx.delivery!.id)!);
          pump();
        });
      }
      await eventually(() => accepted.size >= 300, '300 accepted messages', 30_000);
      await server.kill();
      const snapshot = new Set(accepted);
      for (const c of conns) c.close();
      server = await ServerProcess.start(dataDir, ports, ['--flush', 'sync']);
      const c = await connect(server.amqpPort);
      const got: string[] = [];
      await receive(c, 'crash-q', got);
      await eventually(() => [...snapshot].every((b) => got.includes(b)), `all ${snapshot.size} accepted messages`, 60_000);
      c.close();
      expect(await server.stop()).toBe(0);
    } finally {
      await killAllStarted();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('cross-protocol', () => {
  it('AMQP → native consumer, native producer → AMQP receiver, MQTT ↔ AMQP via a topic', async () => {
    const dataDir = tempDataDir('apg-amqp-x-');
    const server = await ServerProcess.start(dataDir);
    const closers: Array<() => Promise<unknown>> = [];
    try {
      const c = await connect(server.amqpPort);
      // AMQP → native: the queue address is the RocketMQ topic of the same name.
      const snd = c.open_sender({ target: { address: 'xq-native' } });
      await new Promise((r) => snd.once('sendable', r));
      const nativeGot: ReceivedMessage[] = [];
      const consumer = new PushConsumer({ nameServer: server.namesrvAddr, group: 'x-native-group', consumeFromWhere: 'FIRST', rebalanceMs: 500 } as never);
      consumer.on('error', () => {});
      consumer.subscribe('xq-native', '*');
      snd.send({ body: rhea.message.data_section(Buffer.from('from-amqp')), subject: 'tagA', application_properties: { color: 'red' } } as never);
      await consumer.start((msgs: ReceivedMessage[]) => {
        nativeGot.push(...msgs);
      });
      closers.push(() => consumer.shutdown());
      await eventually(() => nativeGot.length === 1, 'the native consumer got the AMQP message', 30_000);
      expect(nativeGot[0]!.body.toString()).toBe('from-amqp');
      expect(nativeGot[0]!.tags).toBe('tagA');
      expect(nativeGot[0]!.properties['color']).toBe('red');

      // native → AMQP.
      const p = new Producer({ nameServer: server.namesrvAddr, group: 'x-native-p' });
      await p.start();
      closers.push(() => p.shutdown());
      // Sent first: the producer creates the topic (4 queues); the AMQP queue reader reads them all from the oldest.
      await p.send({ topic: 'xq-from-native', body: 'from-native', properties: { shape: 'round' } });
      const amqpGot: string[] = [];
      const rcv = c.open_receiver({ source: { address: 'xq-from-native' }, credit_window: 10 });
      const props: Array<Record<string, unknown>> = [];
      rcv.on('message', (ctx) => {
        props.push((ctx.message!.application_properties ?? {}) as Record<string, unknown>);
        amqpGot.push(Buffer.from((ctx.message!.body as { content: Buffer }).content).toString());
      });
      await new Promise((r) => rcv.once('receiver_open', r));
      await eventually(() => amqpGot.length === 1, 'the AMQP receiver got the native message', 30_000);
      expect(amqpGot[0]).toBe('from-native');
      expect(props[0]!['shape']).toBe('round');

      // MQTT → AMQP and AMQP → MQTT through topic/… addresses.
      const topicGot: string[] = [];
      await receive(c, 'topic/xp/+', topicGot);
      const m = await mqtt.connectAsync(server.mqttUrl, { reconnectPeriod: 0 });
      closers.push(() => m.endAsync());
      const mqttGot: string[] = [];
      m.on('message', (t, payload) => mqttGot.push(`${t}=${payload.toString()}`));
      await m.subscribeAsync('xp/#', { qos: 1 });
      await m.publishAsync('xp/from-mqtt', 'hello-amqp', { qos: 1 });
      await eventually(() => topicGot.includes('hello-amqp'), 'AMQP got the MQTT publish', 30_000);
      const ts = c.open_sender({ target: { address: 'topic/xp/from-amqp' } });
      await new Promise((r) => ts.once('sendable', r));
      ts.send({ body: rhea.message.data_section(Buffer.from('hello-mqtt')) } as never);
      await eventually(() => mqttGot.includes('xp/from-amqp=hello-mqtt'), 'MQTT got the AMQP message', 30_000);
      c.close();
    } finally {
      for (const f of closers.reverse()) await f().catch(() => {});
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
