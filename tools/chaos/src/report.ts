/** The report as a table for the terminal. */
import type { ChaosReport } from './run.js';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

export function formatReport(r: ChaosReport): string {
  const summary = table([
    ['run', 'topology', 'seed', 'enqueued', 'acked', 'failed', 'timeout', 'lost', 'duplicated', 'unexpected', 'consumed', 'max unavail s'],
    [
      r.runId,
      r.topology,
      String(r.seed),
      String(r.enqueued),
      String(r.acked),
      String(r.failed),
      String(r.timedOut),
      String(r.lost),
      String(r.duplicated),
      String(r.unexpected),
      String(r.consumed),
      r.maxUnavailableSec.toFixed(1),
    ],
  ]);
  const mq = r.mqtt;
  const mqttBlock = mq
    ? `\n\nMQTT QoS 1 at ${mq.rate}/s:\n` +
      table([
        ['enqueued', 'acked', 'failed', 'timeout', 'lost', 'duplicated', 'unexpected', 'delivered', 'max unavail s', 'drained'],
        [
          mq.enqueued,
          mq.acked,
          mq.failed,
          mq.timedOut,
          mq.lost,
          mq.duplicated,
          mq.unexpected,
          mq.consumed,
          mq.maxUnavailableSec.toFixed(1),
          mq.drained ? 'yes' : 'NO',
        ].map(String),
      ]) +
      (mq.lost > 0 ? `\nMQTT LOST sequence numbers (first 20): ${mq.lostSeqs.join(', ')}` : '') +
      `\nMQTT unavailable s per fault: ${mq.faults.map((f) => `#${f.index} ${f.kind} ${f.unavailableSec.toFixed(1)}`).join(', ')}`
    : '';
  const faultRows = [['#', 'fault', 'hosts', 'start s', 'hold s', 'unavail s', 'recovered', 'acked during', 'failed during', 'acked by group during']];
  const figures = new Map(r.faults.map((f) => [f.index, f]));
  for (const rec of r.faultLog) {
    const f = figures.get(rec.index);
    const what = `${rec.kind}${rec.lossPercent !== undefined ? ` ${rec.lossPercent}%` : ''}`;
    const hosts = rec.bridge ? `${rec.bridge.left.join('+')}|${rec.bridge.middle}|${rec.bridge.right.join('+')}` : rec.hosts.join('+');
    if (!f) {
      faultRows.push([String(rec.index), what, hosts, '-', '-', '-', '-', '-', '-', rec.skipped ?? rec.error ?? '']);
      continue;
    }
    faultRows.push([
      String(rec.index),
      what,
      hosts,
      (f.startMs / 1000).toFixed(1),
      ((f.healMs - f.startMs) / 1000).toFixed(1),
      f.unavailableSec.toFixed(1),
      f.recovered ? 'yes' : 'NO',
      String(f.ackedDuring),
      String(f.failedDuring),
      Object.entries(f.ackedByGroupDuring)
        .map(([g, n]) => `${g}:${n}`)
        .join(' ') || '-',
    ]);
  }
  const f1 = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(1));
  const f2 = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(2));
  const byKind =
    r.byKind.length === 0
      ? ''
      : '\n\nper fault kind:\n' +
        table([
          ['fault', 'count', 'failovers', 're-elected', 'avg unavail s', 'min', 'max', 'avg key gone s', 'avg elected s', 'avg 1st ack after s'],
          ...r.byKind.map((k) => [
            k.kind,
            String(k.faults),
            String(k.failovers),
            String(k.reelections),
            f2(k.avgUnavailableSec),
            f1(k.minUnavailableSec),
            f1(k.maxUnavailableSec),
            f2(k.avgKeyGoneSec),
            f2(k.avgElectedSec),
            f2(k.avgFirstAckAfterElectedSec),
          ]),
        ]);
  const ha = r.ha;
  const haBlock = ha
    ? `\n\nmasters (${ha.brokers} brokers, --replication ${ha.replication}${ha.minInSyncReplicas === undefined ? '' : `, --min-in-sync-replicas ${ha.minInSyncReplicas}`}): epoch ${ha.firstEpoch ?? '-'} → ${ha.lastEpoch ?? '-'}, ${ha.masterChanges} changes\n` +
      table([
        ['#', 'fault', 'master', 'epoch', 'new master', 'epoch', 'key gone s', 'elected s', '1st ack after s'],
        ...ha.failovers.map((f) => [
          String(f.index),
          f.kind,
          f.from ?? '-',
          f.fromEpoch === null ? '-' : String(f.fromEpoch),
          f.to ?? '-',
          f.toEpoch === undefined ? '-' : String(f.toEpoch),
          f2(f.keyGoneSec),
          f2(f.electedSec),
          f2(f.firstAckAfterElectedSec),
        ]),
      ])
    : '';
  const reasons =
    r.failureReasons.length === 0
      ? ''
      : `\n\nfailed sends by reason:\n${r.failureReasons
          .slice(0, 8)
          .map((x) => `  ${String(x.count).padStart(7)}  ${x.reason}`)
          .join('\n')}`;
  const notes = [
    ...(r.aborted ? ['ABORTED before the end of the duration (signal or time bound)'] : []),
    `flush ${r.flush}, rate ${r.rate}/s for ${r.durationSec} s, route refresh ${r.routeRefreshMs} ms, loss by ${r.lossMethod}, partition by ${r.partitionMode}; drained: ${r.drained ? 'yes' : 'NO'}, verification read complete: ${r.verifyComplete ? 'yes' : 'NO'}`,
    `failed but stored: ${r.failedButConsumed}, redelivered: ${r.redelivered}, acked missed by the live consumer: ${r.missedByLiveConsumer}, throttled ticks: ${r.throttled}, pending: ${r.pending}`,
    r.lost > 0 ? `LOST sequence numbers (first 20): ${r.lostSeqs.join(', ')}` : 'no acknowledged message lost',
    r.leftovers.length > 0 ? `LEFT AFTER CLEANUP: ${r.leftovers.join(', ')}` : 'namespaces removed',
  ];
  return `${summary}\n\n${table(faultRows)}${byKind}${haBlock}${reasons}${mqttBlock}\n\n${notes.join('\n')}`;
}
