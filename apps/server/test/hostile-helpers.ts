import fs from 'node:fs';
import net from 'node:net';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import mqtt from 'mqtt';
import rhea from 'rhea';
import { expect } from 'vitest';
import type { ServerProcess } from './server-process.js';

/** The server's anonymous resident memory (heap, buffers), MiB, from /proc/PID/status. */
export function rssAnonMiB(pid: number): number {
  const m = /^RssAnon:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

/** A raw TCP connection, open once connected. */
export function openSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with the bytes received once the server has closed `s` (rejects after `ms`). */
export function closedByServer(s: net.Socket, ms = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('error', () => {});
    if (s.destroyed || s.readableEnded) return resolve(Buffer.concat(got));
    const t = setTimeout(() => reject(new Error(`the server kept the connection open for ${ms} ms`)), ms);
    t.unref();
    s.once('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(got));
    });
  });
}

/** GET /metrics; the value of one sample (name with labels), or NaN when absent. */
export async function metric(server: ServerProcess, sample: string): Promise<number> {
  const text = await (await fetch(`http://${server.httpAddr}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : Number.NaN;
}

/** A round trip on every endpoint: NameServer and broker (remoting), MQTT (TCP and WebSocket), AMQP, HTTP. */
export async function everyEndpointAnswers(server: ServerProcess, tag: string): Promise<void> {
  const r = new RemotingClient();
  try {
    expect((await r.invoke(server.namesrvAddr, makeRequest(RequestCode.GET_BROKER_CLUSTER_INFO))).code).toBe(ResponseCode.SUCCESS);
    expect((await r.invoke(server.brokerAddr, makeRequest(RequestCode.GET_BROKER_RUNTIME_INFO))).code).toBe(ResponseCode.SUCCESS);
  } finally {
    r.close();
  }
  for (const url of [server.mqttUrl, server.mqttWsUrl]) {
    const c = await mqtt.connectAsync(url, { clientId: `live-${tag}-${url.slice(0, 2)}`, reconnectPeriod: 0, connectTimeout: 10_000 });
    try {
      const got = new Promise<string>((resolve) => c.on('message', (_t, p) => resolve(p.toString())));
      await c.subscribeAsync(`live/${tag}`, { qos: 1 });
      await c.publishAsync(`live/${tag}`, 'alive', { qos: 1 });
      expect(await got).toBe('alive');
    } finally {
      await c.endAsync();
    }
  }
  expect(await amqpRoundTrip(server.amqpPort, `live-${tag}`)).toBe('alive');
  expect((await fetch(`http://${server.httpAddr}/health`)).status).toBe(200);
}

/** Sends one AMQP message to `queue` and receives it back. */
export function amqpRoundTrip(port: number, queue: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = rhea.create_container({ id: `rt-${queue}` }).connect({ host: '127.0.0.1', port, reconnect: false });
    const t = setTimeout(() => reject(new Error('no AMQP round trip within 20 s')), 20_000);
    conn.on('error', (e) => reject(e as Error));
    conn.open_receiver(queue).on('message', (ctx) => {
      clearTimeout(t);
      resolve(String(ctx.message?.body));
      conn.close();
    });
    conn.open_sender(queue).on('sendable', (ctx) => {
      ctx.sender?.send({ body: 'alive' });
      ctx.sender?.close();
    });
  });
}

/** Writes `path` (a JSON config file) and returns it. */
export function writeConfig(path: string, config: object): string {
  fs.writeFileSync(path, JSON.stringify(config));
  return path;
}
