/**
 * Message trace end to end (docs/trace.md): client trace records through @apogee/client, the
 * broker's own records, the assembled timeline, MQTT and AMQP deliveries in it, the send
 * response's TRACE_ON / MSG_REGION, a Java-client-shaped trace message, and the CLI.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Admin, type MessageTrace, Producer, PushConsumer, type PushConsumerOptions, type ReceivedMessage } from '@apogee/client';
import { TRACE_TOPIC, encodeProperties } from '@apogee/message';
import { RequestCode, makeRequest } from '@apogee/remoting';
import mqtt from 'mqtt';
import type * as Rhea from 'rhea';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawRemoting } from './raw-remoting.js';
import { createTopic, eventually } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const rhea = createRequire(import.meta.url)('rhea') as typeof Rhea;
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const DELAY_LEVELS = '100ms 200ms 300ms 400ms 500ms 600ms 700ms 800ms';

/** Starts a server with this "broker" config section. */
async function start(name: string, broker: Record<string, unknown>): Promise<ServerProcess> {
  const dir = tempDataDir(`apg-trace-${name}-`);
  const cfg = path.join(dir, 'apogee.json');
  fs.writeFileSync(cfg, JSON.stringify({ broker: { messageDelayLevel: DELAY_LEVELS, ...broker } }));
  return ServerProcess.start(path.join(dir, 'data'), undefined, ['--config', cfg]);
}

let server: ServerProcess;
let admin: Admin;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  server = await start('a', {});
  admin = new Admin({ nameServer: server.namesrvAddr });
});

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {});
});

afterAll(async () => {
  await admin?.shutdown();
  await killAllStarted();
});

async function producer(s: ServerProcess, group: string, trace: boolean): Promise<Producer> {
  const p = new Producer({ nameServer: s.namesrvAddr, group, trace });
  await p.start();
  closers.push(() => p.shutdown());
  return p;
}

async function consumer(
  s: ServerProcess,
  opts: Omit<PushConsumerOptions, 'nameServer'>,
  topic: string,
  listener: (m: ReceivedMessage) => boolean,
): Promise<void> {
  const c = new PushConsumer({ nameServer: s.namesrvAddr, consumeFromWhere: 'FIRST', rebalanceMs: 500, persistOffsetMs: 200, ...opts });
  c.on('error', () => {});
  c.subscribe(topic, '*');
  await c.start((msgs) => (msgs.every(listener) ? 'SUCCESS' : 'RECONSUME_LATER'));
  closers.push(() => c.shutdown());
}

/** Queries the trace until `done` holds (records are written in batches, offsets committed periodically). */
async function traceUntil(a: Admin, msgId: string, topic: string, done: (t: MessageTrace) => boolean, what: string): Promise<MessageTrace> {
  let last: MessageTrace | undefined;
  for (let i = 0; i < 100; i++) {
    last = await a.queryMessageTrace(msgId, { topic });
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`trace never showed ${what}: ${JSON.stringify(last?.events.map((e) => [e.kind, e.source]))}`);
}

const kinds = (t: MessageTrace): string[] => t.events.map((e) => e.kind);

/** A consumer that fails a message on its first delivery and takes it on the redelivery. */
const failFirst = (seen: ReceivedMessage[]) => (m: ReceivedMessage) => {
  seen.push(m);
  return m.reconsumeTimes > 0;
};

describe('message trace', () => {
  it('a message consumed after one retry, with client tracing: publish, stored, consume failed, retry, consumed', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'TrRetry', 1);
    const p = await producer(server, 'tr-p1', true);
    const seen: ReceivedMessage[] = [];
    await consumer(server, { group: 'tr-c1', trace: true }, 'TrRetry', failFirst(seen));
    const sent = await p.send({ topic: 'TrRetry', body: 'once-more', keys: 'biz-1', tags: 'tA' });
    await eventually(() => seen.length >= 2, 'the redelivery');
    const t = await traceUntil(admin, sent.msgId, 'TrRetry', (x) => x.events.some((e) => e.kind === 'consumed' && e.source === 'client'), 'the consume result');
    expect(kinds(t)).toEqual(['publish', 'stored', 'consume-started', 'consume-failed', 'retry', 'consume-started', 'consumed']);
    expect(t).toMatchObject({ found: true, uniqKey: sent.msgId, offsetMsgId: sent.offsetMsgId, topic: 'TrRetry' });
    const [pub, , firstTry, failed, retry, secondTry, ok] = t.events;
    expect(pub).toMatchObject({ source: 'client', group: 'tr-p1', topic: 'TrRetry', success: true });
    expect(firstTry).toMatchObject({ source: 'client', group: 'tr-c1', reconsumeTimes: 0 });
    expect(failed).toMatchObject({ success: false, group: 'tr-c1' });
    expect(retry).toMatchObject({ source: 'broker', group: 'tr-c1', reconsumeTimes: 1, detail: '%RETRY%tr-c1' });
    expect(secondTry).toMatchObject({ reconsumeTimes: 1 });
    expect(ok).toMatchObject({ source: 'client', success: true, reconsumeTimes: 1 });
    // Found by the offset message id as well.
    const byOffset = await admin.queryMessageTrace(sent.offsetMsgId);
    expect(kinds(byOffset)).toEqual(kinds(t));
    // The admin API's timeline (read from the engine, not over remoting) is the same one.
    const viaHttp = await fetch(`http://${server.httpAddr}/api/v1/messages/${sent.msgId}/trace?topic=TrRetry`);
    expect(viaHttp.status).toBe(200);
    expect(await viaHttp.json()).toEqual(JSON.parse(JSON.stringify(t)));
    const byOffsetHttp = await fetch(`http://${server.httpAddr}/api/v1/messages/${sent.offsetMsgId}/trace`);
    expect(((await byOffsetHttp.json()) as MessageTrace).events.map((e) => e.kind)).toEqual(kinds(t));
    const badId = await fetch(`http://${server.httpAddr}/api/v1/messages/${encodeURIComponent('has space')}/trace`);
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { error: { message: string } }).error.message).toMatch(/not a message id/);
  });

  it('the broker part of that trace without client tracing: stored, retry, consumed (from the offsets)', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'TrRetryPlain', 1);
    const p = await producer(server, 'tr-p2', false);
    const seen: ReceivedMessage[] = [];
    await consumer(server, { group: 'tr-c2' }, 'TrRetryPlain', failFirst(seen));
    const sent = await p.send({ topic: 'TrRetryPlain', body: 'once-more' });
    await eventually(() => seen.length >= 2, 'the redelivery');
    const t = await traceUntil(
      admin,
      sent.msgId,
      'TrRetryPlain',
      (x) => x.events.some((e) => e.kind === 'consumed') && x.events.some((e) => e.kind === 'retry' && e.source === 'broker'),
      'the derived consumption',
    );
    expect(t.events.map((e) => [e.kind, e.source, e.group ?? null])).toEqual([
      ['stored', 'derived', null],
      ['retry', 'broker', 'tr-c2'],
      ['consumed', 'derived', 'tr-c2'],
    ]);
    expect(t.events[2]).toMatchObject({ topic: '%RETRY%tr-c2', reconsumeTimes: 1 });
    // Without --topic: the broker's Retry record names the topic.
    expect(kinds(await admin.queryMessageTrace(sent.msgId))).toEqual(kinds(t));
    // A message nothing recorded needs its topic to be found by its UNIQ_KEY.
    const quiet = await p.send({ topic: 'TrRetryPlain', body: 'quiet' });
    expect(await admin.queryMessageTrace(quiet.msgId)).toEqual({ msgId: quiet.msgId, found: false, events: [], skippedRecords: 0 });
    expect((await admin.queryMessageTrace(quiet.msgId, { topic: 'TrRetryPlain' })).found).toBe(true);
  });

  it('a dead-lettered message’s timeline ends in dead-letter', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'TrDead', 1);
    const p = await producer(server, 'tr-p3', false);
    await consumer(server, { group: 'tr-c3', maxReconsumeTimes: 1 }, 'TrDead', () => false);
    const sent = await p.send({ topic: 'TrDead', body: 'poison' });
    const t = await traceUntil(admin, sent.msgId, 'TrDead', (x) => x.events.some((e) => e.kind === 'dead-letter' && e.source === 'broker'), 'the dead letter');
    expect(kinds(t)).toEqual(['stored', 'retry', 'dead-letter']);
    expect(t.events[2]).toMatchObject({ source: 'broker', group: 'tr-c3', detail: '%DLQ%tr-c3' });
  });

  it('finds and decodes a Java-client-shaped trace message sent raw to RMQ_SYS_TRACE_TOPIC', async () => {
    const msgId = '0A0000010C6F18B4AAC2700000000042';
    const body =
      ['Pub', '1700000000123', 'DefaultRegion', 'java-pg', 'JavaTopic', msgId, 'null', 'k9', '10.0.0.1:10911', '12', '4', '0', 'OFF', 'true'].join('\u0001') +
      '\u0002';
    const raw = await RawRemoting.connect(server.brokerAddr);
    try {
      const res = await raw.request(
        makeRequest(RequestCode.SEND_MESSAGE_V2, {
          extFields: {
            a: 'java-trace',
            b: TRACE_TOPIC,
            c: 'TBW102',
            d: '1',
            e: '0',
            f: '0',
            g: String(Date.now()),
            h: '0',
            i: encodeProperties({ KEYS: `${msgId} k9` }),
            j: '0',
            k: 'false',
          },
          body: Buffer.from(body),
        }),
      );
      expect(res.code).toBe(0);
      // Every send response carries the region and the trace switch (RocketMQ SendMessageProcessor).
      expect(res.extFields).toMatchObject({ MSG_REGION: 'DefaultRegion', TRACE_ON: 'true' });
    } finally {
      raw.close();
    }
    const t = await traceUntil(admin, msgId, 'JavaTopic', (x) => x.events.length > 0, 'the Java record');
    expect(t.found).toBe(false);
    expect(t.events).toEqual([
      {
        kind: 'publish',
        timestamp: 1700000000123,
        source: 'client',
        group: 'java-pg',
        topic: 'JavaTopic',
        storeHost: '10.0.0.1:10911',
        success: true,
        costMs: 4,
      },
    ]);
  });

  it('the CLI prints a trace as a table and as JSON, and says so for an unknown id', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'TrCli', 1);
    const p = await producer(server, 'tr-p4', true);
    const sent = await p.send({ topic: 'TrCli', body: 'x' });
    await traceUntil(admin, sent.msgId, 'TrCli', (x) => x.events.some((e) => e.kind === 'publish'), 'the publish');
    const text = await cli(['--namesrv', server.namesrvAddr, 'message', 'trace', sent.msgId, '--topic', 'TrCli']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`message ${sent.msgId}`);
    expect(text.stdout).toMatch(/publish\s+client\s+tr-p4/);
    expect(text.stdout).toMatch(/stored\s+derived/);
    const json = await cli(['--namesrv', server.namesrvAddr, '--json', 'message', 'trace', sent.msgId, '--topic', 'TrCli']);
    const doc = JSON.parse(json.stdout.trim()) as MessageTrace;
    expect(doc.events.map((e) => e.kind).slice(0, 2)).toEqual(['publish', 'stored']);
    const unknown = await cli(['--namesrv', server.namesrvAddr, 'message', 'trace', 'NO-SUCH-ID']);
    expect(unknown.code).toBe(0);
    expect(unknown.stdout).toContain('message NO-SUCH-ID not found');
  });
});

describe('message trace with delivery records (brokerTraceDeliveries)', () => {
  let b: ServerProcess;
  let adminB: Admin;

  beforeAll(async () => {
    b = await start('b', { brokerTraceDeliveries: true, regionId: 'RegionB', traceOn: false });
    adminB = new Admin({ nameServer: b.namesrvAddr });
  });

  afterAll(async () => {
    await adminB?.shutdown();
    await b?.stop();
  });

  it('records MQTT and AMQP deliveries, answers TRACE_ON=false, and a tracing producer then writes no Pub', async () => {
    // MQTT: a native send carrying an MQTT topic reaches a subscriber of the topic space.
    const sub = await mqtt.connectAsync(b.mqttUrl, { clientId: 'trace-mqtt-sub', reconnectPeriod: 0 });
    closers.push(() => sub.endAsync());
    const mqttGot: string[] = [];
    sub.on('message', (_t, payload) => mqttGot.push(payload.toString()));
    await sub.subscribeAsync('plant/+/temp', { qos: 1 });
    const p = await producer(b, 'tr-pb', true);
    const toMqtt = await p.send({ topic: 'plant', body: 'to-mqtt', properties: { mqttTopic: 'plant/p1/temp' } });
    await eventually(() => mqttGot.length === 1, 'the MQTT delivery', 30_000);

    // AMQP: a receiver on the queue address of the topic.
    await createTopic(b.brokerAddr, b.namesrvAddr, 'TrAmqp', 1);
    const toAmqp = await p.send({ topic: 'TrAmqp', body: 'to-amqp' });
    const c = rhea.create_container({ id: 'trace-amqp-container' }).connect({ host: '127.0.0.1', port: b.amqpPort, reconnect: false });
    c.on('error', () => {});
    c.on('disconnected', () => {});
    closers.push(async () => c.close());
    const amqpGot: string[] = [];
    const rcv = c.open_receiver({ source: { address: 'TrAmqp' }, credit_window: 10 });
    rcv.on('message', () => void amqpGot.push('x'));
    await eventually(() => amqpGot.length === 1, 'the AMQP delivery', 30_000);

    const mq = await traceUntil(adminB, toMqtt.msgId, 'plant', (t) => t.events.some((e) => e.kind === 'delivered'), 'the MQTT delivery');
    expect(mq.events.find((e) => e.kind === 'delivered')).toMatchObject({ source: 'broker', protocol: 'mqtt', client: 'trace-mqtt-sub' });
    // The broker's Store record replaces the derived one; TRACE_ON=false kept the producer from tracing.
    expect(mq.events.find((e) => e.kind === 'stored')).toMatchObject({ source: 'broker', group: 'tr-pb' });
    expect(mq.events.some((e) => e.kind === 'publish')).toBe(false);

    const am = await traceUntil(adminB, toAmqp.msgId, 'TrAmqp', (t) => t.events.some((e) => e.kind === 'delivered'), 'the AMQP delivery');
    expect(am.events.find((e) => e.kind === 'delivered')).toMatchObject({
      source: 'broker',
      protocol: 'amqp',
      client: 'trace-amqp-container',
      topic: 'TrAmqp',
    });

    const raw = await RawRemoting.connect(b.brokerAddr);
    try {
      const res = await raw.request(
        makeRequest(RequestCode.SEND_MESSAGE_V2, {
          extFields: { a: 'raw', b: 'TrAmqp', c: 'TBW102', d: '1', e: '0', f: '0', g: String(Date.now()), h: '0', i: '', j: '0', k: 'false' },
          body: Buffer.from('raw'),
        }),
      );
      expect(res.extFields).toMatchObject({ MSG_REGION: 'RegionB', TRACE_ON: 'false' });
    } finally {
      raw.close();
    }
  });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it (as apps/cli/test/cli.e2e.spec.ts does). */
function cli(args: readonly string[]): Promise<Run> {
  const env = { ...process.env };
  delete env['APOGEE_NAMESRV'];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'apps/cli/src/main.ts'), ...args], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
