/**
 * Issue 13's slow-consumer policy against a real server process: clients that stop reading (raw
 * sockets that never read) while the server has much to send them. MQTT QoS 0 deliveries are
 * dropped and counted, QoS 1 and AMQP deliveries wait in their queue, remoting requests stop
 * being read; the server's memory stays bounded and every other client keeps working.
 */
import fs from 'node:fs';
import type net from 'node:net';
import { RequestCode, encodeFrame, makeRequest } from '@apogee/remoting';
import mqtt from 'mqtt';
import rhea from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everyEndpointAnswers, metric, openSocket, rssAnonMiB } from './hostile-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

let server: ServerProcess;
let dataDir: string;
beforeAll(async () => {
  dataDir = tempDataDir('apg-slow-');
  server = await ServerProcess.start(dataDir);
});
afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Growth of the server's anonymous memory that a buffer per stalled connection could not explain. */
const BUDGET_MIB = 96;
const PAYLOAD = Buffer.alloc(16 * 1024, 0x61);
/** 2,000 × 16 KiB = 32 MiB toward one stalled client: far past every socket buffer. */
const MESSAGES = 2000;

/** A raw MQTT 3.1.1 subscriber: CONNECT, SUBSCRIBE, then it never reads again. */
async function stalledSubscriber(clientId: string, topic: string, qos: 0 | 1): Promise<net.Socket> {
  const s = await openSocket(server.ports.mqttPort);
  const suback = new Promise<void>((resolve) => {
    let seen = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      seen = Buffer.concat([seen, d]);
      if (seen.includes(0x90)) {
        s.off('data', onData);
        s.pause();
        resolve();
      }
    };
    s.on('data', onData);
  });
  // MQTT 3.1.1 by hand: CONNECT (clean session, keep alive 0), SUBSCRIBE packet id 1.
  s.write(packet(0x10, Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 0]), str(clientId)));
  s.write(packet(0x82, Buffer.from([0, 1]), str(topic), Buffer.from([qos])));
  await suback;
  return s;
}

function str(v: string): Buffer {
  const b = Buffer.from(v);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

/** A packet with a one-byte remaining length (these are short). */
function packet(first: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([first, body.length]), body]);
}

async function publishMany(topic: string): Promise<void> {
  const c = await mqtt.connectAsync(server.mqttUrl, { clientId: `pub-${topic.replace(/\W/g, '')}`, reconnectPeriod: 0 });
  for (let i = 0; i < MESSAGES; i += 50) await Promise.all(Array.from({ length: 50 }, () => c.publishAsync(topic, PAYLOAD, { qos: 1 })));
  await c.endAsync();
}

describe('clients that stop reading', () => {
  it('MQTT QoS 0: deliveries past the outbound bound are dropped and counted; memory stays bounded', async () => {
    const before = rssAnonMiB(server.proc.pid!);
    const dropped = await metric(server, 'apogee_mqtt_dropped_slow_total');
    const s = await stalledSubscriber('stalled-q0', 'slow/q0', 0);
    await publishMany('slow/q0');
    expect(await metric(server, 'apogee_mqtt_dropped_slow_total')).toBeGreaterThan(dropped);
    expect(rssAnonMiB(server.proc.pid!) - before).toBeLessThan(BUDGET_MIB);
    await everyEndpointAnswers(server, 'slow-q0');
    s.destroy();
  });

  it('MQTT QoS 1: deliveries wait in the LMQ (none dropped); memory stays bounded', async () => {
    const before = rssAnonMiB(server.proc.pid!);
    const dropped = await metric(server, 'apogee_mqtt_dropped_slow_total');
    const s = await stalledSubscriber('stalled-q1', 'slow/q1', 1);
    await publishMany('slow/q1');
    expect(await metric(server, 'apogee_mqtt_dropped_slow_total')).toBe(dropped);
    expect(rssAnonMiB(server.proc.pid!) - before).toBeLessThan(BUDGET_MIB);
    await everyEndpointAnswers(server, 'slow-q1');
    s.destroy();
  });

  it('AMQP: a receiver with credit whose socket is not read gets nothing past the bound; memory stays bounded', async () => {
    const conn = rhea.create_container({ id: 'stalled-amqp' }).connect({ host: '127.0.0.1', port: server.amqpPort, reconnect: false });
    const receiver = conn.open_receiver({ source: 'slowq', credit_window: 0 });
    await new Promise<void>((resolve) => receiver.once('receiver_open', () => resolve()));
    receiver.add_credit(MESSAGES);
    await new Promise((r) => setTimeout(r, 200));
    (conn as unknown as { socket: net.Socket }).socket.pause();
    const before = rssAnonMiB(server.proc.pid!);
    const sender = rhea.create_container({ id: 'amqp-pub' }).connect({ host: '127.0.0.1', port: server.amqpPort, reconnect: false });
    const link = sender.open_sender('slowq');
    await new Promise<void>((resolve, reject) => {
      let sent = 0;
      let accepted = 0;
      link.on('sendable', () => {
        while (link.sendable() && sent < MESSAGES) {
          link.send({ body: PAYLOAD });
          sent++;
        }
      });
      link.on('accepted', () => {
        if (++accepted === MESSAGES) resolve();
      });
      link.on('rejected', () => reject(new Error('a message was rejected')));
    });
    sender.close();
    expect(rssAnonMiB(server.proc.pid!) - before).toBeLessThan(BUDGET_MIB);
    await everyEndpointAnswers(server, 'slow-amqp');
    (conn as unknown as { socket: net.Socket }).socket.destroy();
  });

  it('remoting: a client that sends requests and never reads the answers stops being read; memory stays bounded', async () => {
    const s = await openSocket(server.ports.brokerPort);
    s.pause();
    const before = rssAnonMiB(server.proc.pid!);
    // 40,000 requests whose answers (the topic table) total far more than every buffer on the way.
    const frame = encodeFrame(makeRequest(RequestCode.GET_ALL_TOPIC_CONFIG));
    const burst = Buffer.concat(Array.from({ length: 1000 }, () => frame));
    for (let i = 0; i < 40; i++) if (!s.write(burst)) await Promise.race([new Promise((r) => s.once('drain', r)), new Promise((r) => setTimeout(r, 200))]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(rssAnonMiB(server.proc.pid!) - before).toBeLessThan(BUDGET_MIB);
    await everyEndpointAnswers(server, 'slow-remoting');
    s.destroy();
  });
});
