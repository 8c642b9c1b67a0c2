/**
 * GET /metrics against a real server process (docs/metrics.md): @apogee/client sends and pulls,
 * then the per-topic counters, the group lag before and after the commit, the histograms' shape,
 * the fsync histogram, the disk gauges and the connection family are checked in the scrape; and
 * every metric name the Grafana dashboard and the example alert rules use is one the server exposes.
 * A second server, with an `auth` section, refuses MQTT CONNECTs (mqtt.js), SUBSCRIBEs and
 * PUBLISHes and an AMQP login (rhea), and the scrape shows each under its operation and reason.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { AMQP_REFUSAL_REASONS } from '@apogee/amqp';
import { hashPassword } from '@apogee/broker';
import { MessageSelector, Producer, PullConsumer } from '@apogee/client';
import { MQTT_REFUSAL_REASONS } from '@apogee/mqtt';
import mqtt, { type IClientOptions } from 'mqtt';
import type * as Rhea from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPromtool, histogramOf, metricNamesIn, scrape, valueOf, type Scrape } from './metrics-helpers.js';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const rhea = createRequire(import.meta.url)('rhea') as typeof Rhea;
const repoRoot = path.resolve(import.meta.dirname, '../../..');
// Every character RocketMQ allows besides letters and digits; none needs escaping in the text format
// (label escaping itself is covered by apps/server/src/metrics/exposition.spec.ts).
const TOPIC = 'Metrics_e2e-%|T';
const GROUP = 'metrics-cg';
const BODIES = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff', 'ggggggg'];

let server: ServerProcess;
let dataDir: string;
let producer: Producer;
let consumer: PullConsumer;
let pulls = 0;
let afterSends: Scrape;
let beforeCommit: Scrape;
let afterCommit: Scrape;

beforeAll(async () => {
  dataDir = tempDataDir('apg-metrics-');
  // SYNC_FLUSH: every confirmed send waited for an fdatasync, so the fsync histogram has counted by then.
  server = await ServerProcess.start(dataDir, undefined, ['--flush', 'sync']);
  await createTopic(server.brokerAddr, server.namesrvAddr, TOPIC, 2);
  producer = new Producer({ nameServer: server.namesrvAddr, group: 'metrics-pg' });
  await producer.start();
  consumer = new PullConsumer({ nameServer: server.namesrvAddr, group: GROUP });
  await consumer.start();
  for (const body of BODIES) await producer.send({ topic: TOPIC, body });
  afterSends = await scrape(server.httpAddr);
  const queues = await consumer.fetchSubscribeQueues(TOPIC);
  const next = [];
  for (const q of queues) {
    const r = await consumer.pull(q, MessageSelector.byTag('*'), 0, 32);
    pulls++;
    next.push({ q, offset: r.nextBeginOffset });
    // Committed at 0 first: the whole backlog is lag.
    await consumer.commitOffset(q, 0);
  }
  beforeCommit = await scrape(server.httpAddr);
  for (const { q, offset } of next) await consumer.commitOffset(q, offset);
  afterCommit = await scrape(server.httpAddr);
});

afterAll(async () => {
  await consumer?.shutdown().catch(() => {});
  await producer?.shutdown().catch(() => {});
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('/metrics per topic and group', () => {
  it('counts what was sent to the topic, in messages and body bytes', () => {
    expect(valueOf(afterSends, 'apogee_topic_messages_in_total', { topic: TOPIC })).toBe(BODIES.length);
    expect(valueOf(afterSends, 'apogee_topic_bytes_in_total', { topic: TOPIC })).toBe(BODIES.join('').length);
    expect(valueOf(afterSends, 'apogee_topic_messages_out_total', { topic: TOPIC })).toBe(0);
    expect(afterSends.types.get('apogee_topic_messages_in_total')).toBe('counter');
  });

  it('counts what the group pulled, and its lag before and after the commit', () => {
    expect(valueOf(beforeCommit, 'apogee_topic_messages_out_total', { topic: TOPIC })).toBe(BODIES.length);
    expect(valueOf(beforeCommit, 'apogee_group_messages_consumed_total', { group: GROUP, topic: TOPIC })).toBe(BODIES.length);
    expect(valueOf(beforeCommit, 'apogee_group_lag_messages', { group: GROUP, topic: TOPIC })).toBe(BODIES.length);
    expect(valueOf(afterCommit, 'apogee_group_lag_messages', { group: GROUP, topic: TOPIC })).toBe(0);
  });
});

describe('/metrics histograms', () => {
  for (const name of ['apogee_send_latency_seconds', 'apogee_pull_latency_seconds', 'apogee_store_fsync_seconds']) {
    it(`${name}: cumulative buckets ending at +Inf = _count`, () => {
      const h = histogramOf(afterCommit, name);
      expect(afterCommit.types.get(name)).toBe('histogram');
      expect(h.buckets.length).toBeGreaterThan(1);
      expect(h.buckets.at(-1)).toEqual({ le: '+Inf', count: h.count });
      for (let i = 1; i < h.buckets.length; i++) {
        expect(h.buckets[i]!.count).toBeGreaterThanOrEqual(h.buckets[i - 1]!.count);
        if (i < h.buckets.length - 1) expect(Number(h.buckets[i]!.le)).toBeGreaterThan(Number(h.buckets[i - 1]!.le));
      }
      expect(h.sum).toBeGreaterThanOrEqual(0);
    });
  }

  it('times every send and pull, and the fsyncs of a flush', () => {
    expect(histogramOf(afterSends, 'apogee_send_latency_seconds').count).toBeGreaterThanOrEqual(BODIES.length);
    expect(histogramOf(afterCommit, 'apogee_pull_latency_seconds').count).toBeGreaterThanOrEqual(pulls);
    expect(histogramOf(afterSends, 'apogee_store_fsync_seconds').count).toBeGreaterThan(0);
  });
});

describe('/metrics store, connections', () => {
  it('shows the disk used and free, and the age of the oldest retained message', () => {
    expect(valueOf(afterCommit, 'apogee_store_disk_bytes')).toBeGreaterThan(0);
    expect(valueOf(afterCommit, 'apogee_store_disk_free_bytes')).toBeGreaterThan(0);
    expect(valueOf(afterCommit, 'apogee_store_disk_total_bytes')).toBeGreaterThanOrEqual(valueOf(afterCommit, 'apogee_store_disk_free_bytes')!);
    expect(valueOf(afterCommit, 'apogee_store_oldest_message_age_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('counts connections per protocol in one family, beside the per-protocol names', () => {
    expect(valueOf(afterCommit, 'apogee_connections', { protocol: 'remoting' })).toBeGreaterThanOrEqual(2);
    expect(valueOf(afterCommit, 'apogee_connections', { protocol: 'http' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(afterCommit, 'apogee_connections', { protocol: 'mqtt' })).toBe(valueOf(afterCommit, 'apogee_mqtt_connections'));
    expect(valueOf(afterCommit, 'apogee_connections', { protocol: 'amqp' })).toBe(valueOf(afterCommit, 'apogee_amqp_connections'));
    expect(valueOf(afterCommit, 'apogee_send_refusals_total', { reason: 'DISK_FULL' })).toBe(0);
  });
});

describe('/metrics refusals', () => {
  /** The samples of a refusals family, as { "operation/reason": value }. */
  const refusals = (s: Scrape, name: string) =>
    Object.fromEntries(s.samples.filter((x) => x.name === name).map((x) => [`${x.labels['operation']}/${x.labels['reason']}`, x.value]));
  /** Every (operation, reason) of a table at 0, with `counted` on top. */
  const zerosWith = (table: Readonly<Record<string, readonly string[]>>, counted: Record<string, number>) => ({
    ...Object.fromEntries(Object.entries(table).flatMap(([op, reasons]) => reasons.map((r) => [`${op}/${r}`, 0]))),
    ...counted,
  });

  it('shows every MQTT and AMQP refusal series at 0 before anything was refused', () => {
    expect(afterCommit.types.get('apogee_mqtt_refusals_total')).toBe('counter');
    expect(afterCommit.types.get('apogee_amqp_refusals_total')).toBe('counter');
    expect(refusals(afterCommit, 'apogee_mqtt_refusals_total')).toEqual(zerosWith(MQTT_REFUSAL_REASONS, {}));
    expect(refusals(afterCommit, 'apogee_amqp_refusals_total')).toEqual(zerosWith(AMQP_REFUSAL_REASONS, {}));
  });

  describe('on a server with an auth section', () => {
    let authDir: string;
    let authServer: ServerProcess | undefined;
    let refused: Scrape;
    let mqttUrl: string;
    const errors: string[] = [];

    /** A CONNECT the server must refuse: resolves with mqtt.js's error message. */
    async function refusedConnect(opts: IClientOptions): Promise<string> {
      const client = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0, connectTimeout: 10_000, ...opts }).then(
        (c) => c,
        (err: Error) => err.message,
      );
      if (typeof client === 'string') return client;
      await client.endAsync();
      throw new Error(`the server accepted ${JSON.stringify(opts)}`);
    }

    /** An AMQP SASL PLAIN login the server must refuse. */
    function refusedAmqpLogin(port: number, username: string, password: string): Promise<void> {
      const c = rhea.create_container({ id: `metrics-${Math.random().toString(36).slice(2)}` });
      const conn = c.connect({ host: '127.0.0.1', port, username, password, reconnect: false } as never);
      return new Promise((resolve, reject) => {
        conn.once('connection_open', () => reject(new Error('the AMQP login was accepted')));
        // rhea raises a SASL failure nobody listens for.
        conn.on('connection_error', () => {});
        c.on('error', () => {});
        conn.once('disconnected', () => resolve());
      });
    }

    beforeAll(async () => {
      authDir = tempDataDir('apg-metrics-auth-');
      const file = path.join(authDir, 'apogee.json');
      const auth = {
        allowAnonymous: true,
        anonymous: { publish: { allow: ['public/#'] }, subscribe: { allow: ['public/#'] } },
        users: [{ username: 'dev', password: await hashPassword('dev-pw'), publish: { allow: ['dev/#'] }, subscribe: { allow: ['dev/#'] } }],
      };
      fs.writeFileSync(file, JSON.stringify({ auth }));
      const s = (authServer = await ServerProcess.start(path.join(authDir, 'data'), undefined, ['--config', file]));
      mqttUrl = s.mqttUrl;
      // Two bad passwords (5.0 and 3.1.1), and a will on a topic the anonymous rules do not allow.
      errors.push(await refusedConnect({ protocolVersion: 5, username: 'dev', password: 'wrong' }));
      errors.push(await refusedConnect({ protocolVersion: 4, username: 'nobody', password: 'wrong' }));
      errors.push(await refusedConnect({ protocolVersion: 5, will: { topic: 'private/will', payload: Buffer.from('bye'), qos: 0, retain: false } }));
      const anon = await mqtt.connectAsync(mqttUrl, { protocolVersion: 5, reconnectPeriod: 0 });
      await expect(anon.subscribeAsync('private/#', { qos: 1 })).rejects.toThrow(/Unspecified error/);
      await expect(anon.publishAsync('private/x', 'no', { qos: 1 })).rejects.toThrow(/Not authorized/i);
      await anon.publishAsync('public/x', 'yes', { qos: 1 });
      await anon.endAsync();
      await refusedAmqpLogin(s.amqpPort, 'dev', 'wrong');
      refused = await scrape(s.httpAddr);
    });

    afterAll(async () => {
      await authServer?.kill();
      if (authDir) fs.rmSync(authDir, { recursive: true, force: true });
    });

    it('mqtt.js saw the refusals', () => {
      expect(errors[0]).toMatch(/Bad User Name or Password/i);
      expect(errors[1]).toMatch(/Bad username or password/i);
      expect(errors[2]).toMatch(/Not authorized/i);
    });

    it('counts refused MQTT CONNECTs, SUBSCRIBEs and PUBLISHes under their operation and reason, the rest at 0', () => {
      expect(refusals(refused, 'apogee_mqtt_refusals_total')).toEqual(
        zerosWith(MQTT_REFUSAL_REASONS, {
          'connect/bad_credentials': 2,
          'connect/will_not_authorized': 1,
          'subscribe/not_authorized': 1,
          'publish/not_authorized': 1,
        }),
      );
      expect(valueOf(refused, 'apogee_mqtt_refusals_total', { operation: 'connect', reason: 'bad_credentials' })).toBe(2);
    });

    it('counts the refused AMQP login under sasl', () => {
      expect(refusals(refused, 'apogee_amqp_refusals_total')).toEqual(zerosWith(AMQP_REFUSAL_REASONS, { 'sasl/bad_credentials': 1 }));
    });
  });
});

describe('/metrics format', () => {
  // A missing promtool skips this locally, and fails it under CI=true (.ci/run installs it).
  const promtool = findPromtool();
  it.skipIf(promtool === null && process.env['CI'] !== 'true')('passes promtool check metrics (the format and the naming conventions)', () => {
    expect(promtool, 'promtool is missing: install the prometheus package').not.toBeNull();
    const r = spawnSync(promtool!, ['check', 'metrics'], { input: afterCommit.text, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
  });
});

describe('ops files', () => {
  /** Names a scrape shows, with each histogram's family name too. */
  function exposedNames(s: Scrape): Set<string> {
    const names = new Set(s.samples.map((x) => x.name));
    for (const [family, type] of s.types) if (type === 'histogram') names.add(family);
    return names;
  }
  // `up` is Prometheus' own, not the server's.
  const PROMETHEUS_OWN = new Set(['up']);

  it('the Grafana dashboard uses only metrics the server exposes', () => {
    const dash = JSON.parse(fs.readFileSync(path.join(repoRoot, 'ops/grafana/apogee-dashboard.json'), 'utf8'));
    expect(dash.__inputs[0].name).toBe('DS_PROMETHEUS');
    const exprs: string[] = dash.panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr));
    for (const v of dash.templating.list) exprs.push(v.query.query.replace(/^label_values\((.*), *\w+\)$/, '$1'));
    const used = new Set(exprs.flatMap(metricNamesIn));
    expect(used.size).toBeGreaterThan(10);
    const exposed = exposedNames(afterCommit);
    expect([...used].filter((n) => !exposed.has(n) && !PROMETHEUS_OWN.has(n))).toEqual([]);
  });

  it('the example alert rules use only metrics the server exposes', () => {
    const yml = fs.readFileSync(path.join(repoRoot, 'ops/prometheus/apogee-alerts.yml'), 'utf8');
    const exprs = [...yml.matchAll(/expr: (?:\|\n((?: {10}.*\n)+)|(.*)\n)/g)].map((m) => (m[1] ?? m[2])!);
    expect(exprs.length).toBeGreaterThanOrEqual(5);
    const used = new Set(exprs.flatMap(metricNamesIn));
    const exposed = exposedNames(afterCommit);
    expect([...used].filter((n) => !exposed.has(n) && !PROMETHEUS_OWN.has(n))).toEqual([]);
    expect(used).toContain('up');
  });
});
