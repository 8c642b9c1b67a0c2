import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { Empty, ErrorBanner, Loading, Notice, PageHeader } from '../components/ui.js';
import { ago, bytes, time } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import { Link } from '../router.js';
import type { Message, MqttSession } from '../types.js';

const VERSIONS: Record<number, string> = { 3: '3.1', 4: '3.1.1', 5: '5.0' };

function subs(s: MqttSession): JSX.Element {
  if (s.subscriptions.length === 0) return <span class="muted">none</span>;
  return (
    <ul class="plain compact">
      {s.subscriptions.map((x) => (
        <li key={x.filter}>
          <code>{x.filter}</code> <span class="muted">QoS {x.qos}</span>
          {x.shared ? <span class="pill">shared</span> : null}
        </li>
      ))}
    </ul>
  );
}

export function MqttPage(): JSX.Element {
  const [tab, setTab] = useState<'clients' | 'sessions' | 'retained'>('clients');
  return (
    <div>
      <PageHeader title="MQTT" />
      <div class="tabs" role="tablist">
        {(['clients', 'sessions', 'retained'] as const).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} class={tab === t ? 'active' : ''} onClick={() => setTab(t)}>
            {t === 'clients' ? 'Connected clients' : t === 'sessions' ? 'Sessions' : 'Retained'}
          </button>
        ))}
      </div>
      {tab === 'clients' ? <Clients /> : tab === 'sessions' ? <Sessions /> : <Retained />}
    </div>
  );
}

function Clients(): JSX.Element {
  const list = useApi(() => api<{ clients: MqttSession[] }>('/mqtt/clients'), [], 2000);
  const act = useAction();
  const [done, setDone] = useState<string | null>(null);
  const clients = list.data?.clients ?? [];
  return (
    <section>
      <ErrorBanner error={list.error ?? act.error} onClose={act.error ? act.clear : undefined} />
      {done ? <Notice kind="ok">{done}</Notice> : null}
      {list.loading && !list.data ? <Loading what="clients" /> : null}
      {list.data && clients.length === 0 ? <Empty>No MQTT client is connected.</Empty> : null}
      {clients.length > 0 ? (
        <table class="data" data-testid="mqtt-clients">
          <thead>
            <tr>
              <th>Client id</th>
              <th>Version</th>
              <th>Address</th>
              <th>User</th>
              <th>Subscriptions</th>
              <th class="num">In flight</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {clients.map((c) => (
              <tr key={c.clientId} data-client={c.clientId}>
                <td>
                  <code>{c.clientId}</code>
                  {c.persistent ? <span class="pill">persistent</span> : null}
                </td>
                <td>{c.protocolVersion === null ? '—' : (VERSIONS[c.protocolVersion] ?? String(c.protocolVersion))}</td>
                <td>{c.remoteAddress ?? '—'}</td>
                <td>{c.username ?? <span class="muted">anonymous</span>}</td>
                <td>{subs(c)}</td>
                <td class="num">{c.inflight}</td>
                <td class="row-actions">
                  <button
                    type="button"
                    class="danger"
                    disabled={act.busy}
                    onClick={() =>
                      void act.run(async () => {
                        await api(`/mqtt/clients/${enc(c.clientId)}/connection`, { method: 'DELETE' });
                        setDone(`${c.clientId} disconnected.`);
                        list.reload();
                      })
                    }
                  >
                    Disconnect
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function Sessions(): JSX.Element {
  const list = useApi(() => api<{ sessions: MqttSession[] }>('/mqtt/sessions'), [], 3000);
  const sessions = list.data?.sessions ?? [];
  return (
    <section>
      <ErrorBanner error={list.error} />
      {list.loading && !list.data ? <Loading what="sessions" /> : null}
      {list.data && sessions.length === 0 ? <Empty>No MQTT sessions.</Empty> : null}
      {sessions.length > 0 ? (
        <table class="data" data-testid="mqtt-sessions">
          <thead>
            <tr>
              <th>Client id</th>
              <th>State</th>
              <th>Persistent</th>
              <th>Expiry</th>
              <th>Subscriptions</th>
              <th class="num">In flight</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.clientId}>
                <td>
                  <code>{s.clientId}</code>
                </td>
                <td>{s.connected ? <span class="pill ok">connected</span> : `offline since ${ago(s.disconnectedAt)}`}</td>
                <td>{s.persistent ? 'yes' : 'no'}</td>
                <td>{!s.persistent ? '—' : s.expirySeconds < 0 ? 'never' : `${s.expirySeconds} s`}</td>
                <td>{subs(s)}</td>
                <td class="num">{s.inflight}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function Retained(): JSX.Element {
  const [filter, setFilter] = useState('#');
  const [asked, setAsked] = useState('#');
  const list = useApi(() => api<{ messages: Message[] }>(`/mqtt/retained?filter=${enc(asked)}`), [asked]);
  const messages = list.data?.messages ?? [];
  return (
    <section>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(filter);
        }}
      >
        <label>
          Topic filter
          <input value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        </label>
        <button type="submit">Show</button>
      </form>
      <ErrorBanner error={list.error} />
      {list.loading ? <Loading what="retained messages" /> : null}
      {list.data && messages.length === 0 ? <Empty>No retained message matches {asked}.</Empty> : null}
      {messages.length > 0 ? (
        <table class="data">
          <thead>
            <tr>
              <th>MQTT topic</th>
              <th>Stored</th>
              <th class="num">Size</th>
              <th>Body</th>
            </tr>
          </thead>
          <tbody>
            {messages.map((m) => (
              <tr key={m.msgId}>
                <td>
                  <Link href={`/messages/${enc(m.msgId)}`}>
                    <code>{m.properties['mqtt.topic'] ?? m.topic}</code>
                  </Link>
                </td>
                <td>{time(m.storeTimestamp)}</td>
                <td class="num">{bytes(m.bodySize)}</td>
                <td class="clip">{m.body.text ?? <span class="muted">binary</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
