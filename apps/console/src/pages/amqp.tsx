import type { JSX } from 'preact';
import { api } from '../api.js';
import { Empty, ErrorBanner, Loading, PageHeader } from '../components/ui.js';
import { ago } from '../format.js';
import { useApi } from '../hooks.js';
import type { AmqpConnection } from '../types.js';

export function AmqpPage(): JSX.Element {
  const list = useApi(() => api<{ connections: AmqpConnection[] }>('/amqp/connections'), [], 2000);
  const conns = list.data?.connections ?? [];
  return (
    <div>
      <PageHeader title="AMQP 1.0" />
      <ErrorBanner error={list.error} />
      {list.loading && !list.data ? <Loading what="connections" /> : null}
      {list.data && conns.length === 0 ? <Empty>No AMQP connection is open.</Empty> : null}
      {conns.map((c) => (
        <section class="panel" key={c.id} data-connection={c.id}>
          <h2>
            {c.containerId ?? c.id} <span class="muted">from {c.remoteAddress}</span>
          </h2>
          <p class="muted">
            opened {ago(c.openedAt)} · user {c.username ?? 'anonymous'} · {c.links.length} link(s)
          </p>
          {c.links.length === 0 ? null : (
            <table class="data">
              <thead>
                <tr>
                  <th>Link</th>
                  <th>Role (server side)</th>
                  <th>Address</th>
                  <th class="num">Credit</th>
                  <th class="num">Delivery count</th>
                  <th>Durable</th>
                </tr>
              </thead>
              <tbody>
                {c.links.map((l) => (
                  <tr key={`${l.role}:${l.name}`}>
                    <td>
                      <code>{l.name}</code>
                    </td>
                    <td>{l.role === 'sender' ? 'sender (to the client)' : 'receiver (from the client)'}</td>
                    <td>
                      <code>{l.address ?? '—'}</code>
                    </td>
                    <td class="num">{l.credit}</td>
                    <td class="num">{l.deliveryCount}</td>
                    <td>{l.durable === undefined ? '—' : l.durable ? 'yes' : 'no'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
    </div>
  );
}
