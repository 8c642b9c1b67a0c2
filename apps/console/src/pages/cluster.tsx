import type { JSX } from 'preact';
import { api } from '../api.js';
import { ErrorBanner, Facts, Loading, PageHeader } from '../components/ui.js';
import { ago, bytes, time } from '../format.js';
import { useApi } from '../hooks.js';
import type { Cluster } from '../types.js';

export function ClusterPage(): JSX.Element {
  const c = useApi(() => api<Cluster>('/cluster'), [], 5000);
  return (
    <div>
      <PageHeader title={c.data ? <>Cluster {c.data.clusterName}</> : 'Cluster'} />
      <ErrorBanner error={c.error} />
      {c.loading && !c.data ? <Loading what="the cluster" /> : null}
      {c.data?.brokers.map((b) => {
        const disk = b.store.disk;
        return (
          <section class="panel" key={`${b.brokerName}/${b.brokerId}`} data-broker={b.brokerName}>
            <h2>
              {b.brokerName} <span class="pill ok">{b.role}</span>
            </h2>
            <Facts
              items={[
                ['Broker id', String(b.brokerId)],
                ['Version', b.version],
                ['Started', `${time(b.startedAt)} (${ago(b.startedAt)})`],
                ['Commit log', `${bytes(b.store.maxCommitLogOffset - b.store.minCommitLogOffset)} in ${b.store.segments} segment(s)`],
                ['Flushed to', String(b.store.flushedCommitLogOffset)],
                ['Disk', disk ? `${bytes(disk.freeBytes)} free of ${bytes(disk.totalBytes)} (${(disk.usedRatio * 100).toFixed(0)}% used)` : 'n/a'],
              ]}
            />
            {disk ? (
              <div class="meter" title={`${(disk.usedRatio * 100).toFixed(1)}% used`}>
                <div class={disk.usedRatio > 0.9 ? 'full' : ''} style={{ width: `${Math.min(100, disk.usedRatio * 100).toFixed(1)}%` }} />
              </div>
            ) : null}
            <h3>Addresses</h3>
            <table class="data">
              <tbody>
                {Object.entries(b.listeners).map(([k, v]) => (
                  <tr key={k}>
                    <th>{k}</th>
                    <td>{v ? <code>{v}</code> : <span class="muted">off</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        );
      })}
    </div>
  );
}
