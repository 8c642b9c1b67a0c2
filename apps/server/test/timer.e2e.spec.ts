/**
 * Timer (RIP-43) messages through a real apps/server: @apogee/client, ali-ons, MQTT 5 and AMQP
 * senders; each message reaches its real topic not before its due time and keeps its properties.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { ClientError, Producer, type ReceivedMessage } from '@apogee/client';
import mqtt from 'mqtt';
import type * as Rhea from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, eventually } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';
import { pullAll } from './timer-helpers.js';

const require = createRequire(import.meta.url);
const rhea = require('rhea') as typeof Rhea;
const ons = require('ali-ons') as { Producer: new (o: object) => OnsProducer; Message: new (topic: string, tags: string, body: string) => OnsMessage };
interface OnsMessage {
  properties: Record<string, string>;
}
interface OnsProducer {
  ready(): Promise<void>;
  send(m: OnsMessage): Promise<{ sendStatus: string }>;
  close(): Promise<void>;
}

let server: ServerProcess;
let dataDir: string;
let producer: Producer;

beforeAll(async () => {
  dataDir = tempDataDir('apg-timer-');
  server = await ServerProcess.start(dataDir);
  producer = new Producer({ nameServer: server.namesrvAddr, group: 'timer-p' });
  await producer.start();
});

afterAll(async () => {
  await producer?.shutdown();
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Pulls `topic` until `n` messages are there. */
async function arrived(topic: string, n: number, timeoutMs = 30_000): Promise<ReceivedMessage[]> {
  let got: ReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    got = await pullAll(server.namesrvAddr, topic);
    if (got.length >= n) return got;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${topic}: ${got.length} of ${n} messages arrived`);
}

describe('timer messages', () => {
  it('@apogee/client: past → at once, 1–3 s and mixed delays arrive in their queue, not before due, properties kept', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'TimerClient');
    const now = Date.now();
    const plan = [
      { i: 0, deliverTimeMs: now - 5000 },
      { i: 1, deliverTimeMs: now + 1000 },
      { i: 2, delayMs: 2000 },
      { i: 3, props: { TIMER_DELAY_SEC: '3' } },
      { i: 4, deliverTimeMs: now + 1500 },
      { i: 5, delayMs: 500 },
      { i: 6, deliverTimeMs: now + 2500 },
    ];
    const due = new Map<string, number>();
    for (const p of plan) {
      const sentAt = Date.now();
      // Each to a chosen queue: the fired message must land in that one (REAL_QID).
      const queue = { topic: 'TimerClient', brokerName: 'broker-a', queueId: p.i % 4 };
      const r = await producer.send(
        {
          topic: 'TimerClient',
          body: `t${p.i}`,
          properties: { i: String(p.i), ...(p.props ?? {}) },
          ...(p.deliverTimeMs !== undefined ? { deliverTimeMs: p.deliverTimeMs } : {}),
          ...(p.delayMs !== undefined ? { delayMs: p.delayMs } : {}),
        },
        { queue },
      );
      expect(r.status).toBe('SEND_OK');
      due.set(String(p.i), p.deliverTimeMs ?? sentAt + (p.delayMs ?? 3000));
    }
    const got = await arrived('TimerClient', plan.length);
    expect(got).toHaveLength(plan.length);
    for (const m of got) {
      const i = m.properties['i']!;
      expect(m.queueId).toBe(Number(i) % 4);
      expect(m.body.toString()).toBe(`t${i}`);
      if (i === '0') {
        expect(m.properties['TIMER_OUT_MS']).toBeUndefined(); // already due: stored directly
        continue;
      }
      // Relative delays count from the broker's receipt, after sentAt: due is a lower bound.
      expect(m.storeTimestamp).toBeGreaterThanOrEqual(due.get(i)!);
      expect(Number(m.properties['TIMER_OUT_MS'])).toBeGreaterThanOrEqual(due.get(i)!);
      expect(m.properties['TIMER_DEQUEUE_MS']).toBeDefined();
      expect(m.properties['REAL_TOPIC']).toBeUndefined();
    }
  });

  it('refuses a delay beyond 3 days with MESSAGE_ILLEGAL (13) and a remark naming the limit', async () => {
    const err = await producer.send({ topic: 'TimerClient', body: 'far', delayMs: 3 * 86_400_000 + 60_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).responseCode).toBe(13);
    expect((err as ClientError).remark).toMatch(/max delay 259200000ms/);
  });

  it('lets a DELAY level win over timer properties', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'TimerLevel');
    await producer.send({ topic: 'TimerLevel', body: 'level', delayLevel: 1, properties: { TIMER_DELAY_SEC: '600' } });
    const [m] = await arrived('TimerLevel', 1, 20_000);
    expect(m!.properties['TIMER_DELAY_SEC']).toBeUndefined();
    expect(m!.properties['TIMER_OUT_MS']).toBeUndefined();
  });

  it('ali-ons: a TIMER_DELIVER_MS user property delays the message', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'TimerOns');
    const p = new ons.Producer({
      httpclient: { request: () => Promise.reject(new Error('no HTTP')) },
      nameSrv: server.namesrvAddr,
      producerGroup: 'timer-ons',
    });
    try {
      await p.ready();
      const due = Date.now() + 1500;
      const m = new ons.Message('TimerOns', 'T', 'from-ons');
      m.properties['TIMER_DELIVER_MS'] = String(due);
      expect((await p.send(m)).sendStatus).toBe('SEND_OK');
      const [got] = await arrived('TimerOns', 1);
      expect(got!.storeTimestamp).toBeGreaterThanOrEqual(due);
      expect(got!.properties['TIMER_OUT_MS']).toBe(String(due));
    } finally {
      await p.close();
    }
  });

  it('MQTT 5: a publish with a TIMER_DELAY_MS user property reaches a subscriber after the delay', async () => {
    const sub = await mqtt.connectAsync(server.mqttUrl, { protocolVersion: 5, clientId: 'timer-sub', reconnectPeriod: 0 });
    const pub = await mqtt.connectAsync(server.mqttUrl, { protocolVersion: 5, clientId: 'timer-pub', reconnectPeriod: 0 });
    try {
      const got: Array<{ at: number; body: string; user: unknown }> = [];
      sub.on('message', (_t, payload, packet) => got.push({ at: Date.now(), body: payload.toString(), user: packet.properties?.userProperties }));
      await sub.subscribeAsync('timers/#', { qos: 1 });
      const sentAt = Date.now();
      await pub.publishAsync('timers/a', 'later', { qos: 1, properties: { userProperties: { TIMER_DELAY_MS: '1500', who: 'me' } } });
      await eventually(() => got.length === 1, 'the MQTT subscriber got the timer publish', 30_000);
      expect(got[0]!.body).toBe('later');
      expect(got[0]!.at - sentAt).toBeGreaterThanOrEqual(1500);
      expect(got[0]!.user).toMatchObject({ TIMER_DELAY_MS: '1500', who: 'me' });
    } finally {
      await pub.endAsync();
      await sub.endAsync();
    }
  });

  it('AMQP: x-opt-delivery-delay delays the message for an AMQP receiver', async () => {
    const c = await new Promise<Rhea.Connection>((resolve, reject) => {
      const conn = rhea.create_container({ id: 'timer-amqp' }).connect({ host: '127.0.0.1', port: server.amqpPort, reconnect: false });
      conn.once('connection_open', () => resolve(conn));
      conn.once('connection_error', reject);
    });
    try {
      const got: Array<{ at: number; body: string }> = [];
      const rcv = c.open_receiver({ source: { address: 'TimerAmqp' }, credit_window: 10 });
      rcv.on('message', (ctx) => got.push({ at: Date.now(), body: Buffer.from((ctx.message!.body as { content: Buffer }).content).toString() }));
      await new Promise((r) => rcv.once('receiver_open', r));
      const snd = c.open_sender({ target: { address: 'TimerAmqp' } });
      await new Promise((r) => snd.once('sendable', r));
      const sentAt = Date.now();
      snd.send({ body: rhea.message.data_section(Buffer.from('amqp-later')), message_annotations: { 'x-opt-delivery-delay': 1500 } } as never);
      await eventually(() => got.length === 1, 'the AMQP receiver got the delayed message', 30_000);
      expect(got[0]!.body).toBe('amqp-later');
      expect(got[0]!.at - sentAt).toBeGreaterThanOrEqual(1500);
    } finally {
      c.close();
    }
  });
});
