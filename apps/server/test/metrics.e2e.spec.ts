/**
 * GET /metrics against a real server process (docs/metrics.md): @apogee/client sends and pulls,
 * then the per-topic counters, the group lag before and after the commit, the histograms' shape,
 * the fsync histogram, the disk gauges and the connection family are checked in the scrape; and
 * every metric name the Grafana dashboard and the example alert rules use is one the server exposes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MessageSelector, Producer, PullConsumer } from '@apogee/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPromtool, histogramOf, metricNamesIn, scrape, valueOf, type Scrape } from './metrics-helpers.js';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

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
