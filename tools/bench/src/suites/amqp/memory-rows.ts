/**
 * The memory rows of every amqp scenario: Apogee's (and RabbitMQ's, when installed) RssAnon and
 * RssFile idle and after the load. aedes does not speak AMQP, so the anonymous-memory target uses
 * aedes' RSS after load from the latest mqtt suite run on this machine (bench-results/mqtt.json);
 * the file-backed one, Apogee's own code mapping (its idle RssFile less its LMDB map) + the budget.
 */
import { addDataMapRow, describePoint, field, readPoint, type MemoryPoint, type PointReadings } from '../../memory-points.js';
import { aedesRssFromMqttRun, anonValueTarget, fileTarget } from '../../memory-target.js';
import { median } from '../../stats.js';
import type { BenchContext } from '../../suite.js';
import { withBrokers, type BrokerRef, type Brokers } from './brokers.js';
import { addPeerRow } from './common.js';

const LMDB_MAP = '/data.mdb';

/** withBrokers, reporting the brokers' memory idle (before fn) and after fn. */
export async function withMeasuredBrokers<T>(ctx: BenchContext, scenario: string, fn: (b: Brokers) => Promise<T>): Promise<T> {
  const aedes = await aedesRssFromMqttRun();
  if (!aedes) ctx.report.note(`${scenario}: no bench-results/mqtt.json with aedes' RSS: run the mqtt suite first to check "anon ≤ 2 × aedes RSS"`);
  return withBrokers(ctx, async (b) => {
    const idle = await reportMemoryPoint(ctx, scenario, 'idle', b, aedes?.mib ?? null, null);
    const code = median(field(idle, 'apogee', 'file')) - median(field(idle, 'apogee', 'dataMap'));
    const out = await fn(b);
    await reportMemoryPoint(ctx, scenario, 'after', b, aedes?.mib ?? null, code);
    return out;
  });
}

async function reportMemoryPoint(
  ctx: BenchContext,
  scenario: string,
  point: MemoryPoint,
  b: Brokers,
  aedesMiB: number | null,
  codeMiB: number | null,
): Promise<PointReadings> {
  const brokers: readonly BrokerRef[] = b.all;
  const r = await readPoint(brokers.map((x) => ({ name: x.name, pid: x.pid, ...(x.name === 'apogee' ? { dataMapSuffix: LMDB_MAP } : {}) })));
  addPeerRow(ctx, {
    scenario,
    metric: `memory ${point}: RssAnon (peer: VmRSS)`,
    unit: 'MiB',
    better: 'lower',
    samples: { apogee: field(r, 'apogee', 'anon'), rabbitmq: field(r, 'rabbitmq', 'rss') },
    ...(aedesMiB !== null ? { target: anonValueTarget(aedesMiB) } : {}),
    rabbitMissing: b.rabbitMissing,
  });
  addPeerRow(ctx, {
    scenario,
    metric: `memory ${point}: RssFile`,
    unit: 'MiB',
    better: 'lower',
    samples: { apogee: field(r, 'apogee', 'file'), rabbitmq: field(r, 'rabbitmq', 'file') },
    ...(codeMiB !== null ? { target: fileTarget(codeMiB) } : {}),
    rabbitMissing: b.rabbitMissing,
  });
  addDataMapRow(ctx, scenario, point, r);
  ctx.report.note(
    `${scenario} memory ${point}: ${brokers.map((x) => `${x.name} ${describePoint(r, x.name)}`).join('; ')}${aedesMiB !== null ? `; aedes' RSS after load (mqtt suite): ${aedesMiB.toFixed(0)} MiB` : ''}`,
  );
  return r;
}
