import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { TimeChart } from '../components/chart.js';
import { ConfirmButton, Empty, ErrorBanner, Facts, Loading, Notice, PageHeader } from '../components/ui.js';
import { ago } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import { Link } from '../router.js';
import type { GroupDetail, GroupSummary, OffsetMoves } from '../types.js';

export function GroupsPage(): JSX.Element {
  const list = useApi(() => api<{ groups: GroupSummary[] }>('/groups'), [], 3000);
  const [filter, setFilter] = useState('');
  const groups = (list.data?.groups ?? []).filter((g) => g.groupName.toLowerCase().includes(filter.toLowerCase()));
  return (
    <div>
      <PageHeader title="Consumer groups">
        <input type="search" placeholder="filter by name" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} aria-label="filter groups" />
      </PageHeader>
      <ErrorBanner error={list.error} />
      {list.loading && !list.data ? <Loading what="groups" /> : null}
      {list.data && groups.length === 0 ? <Empty>No consumer groups{filter ? ` matching “${filter}”` : ''}.</Empty> : null}
      {groups.length > 0 ? (
        <table class="data" data-testid="groups-table">
          <thead>
            <tr>
              <th>Group</th>
              <th>State</th>
              <th class="num">Members</th>
              <th class="num">Lag</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.groupName} data-group={g.groupName}>
                <td>
                  <Link href={`/groups/${enc(g.groupName)}`}>{g.groupName}</Link>
                </td>
                <td>
                  <span class={`pill ${g.online ? 'ok' : ''}`}>{g.online ? 'online' : 'offline'}</span>
                </td>
                <td class="num">{g.members}</td>
                <td class="num">{g.lag}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

const LAG_POINTS = 300;

/** One group: members, subscriptions, per-queue lag, the total lag over time (kept here, polled every 2 s), and offset actions. */
export function GroupPage(props: { group: string }): JSX.Element {
  const g = useApi(() => api<GroupDetail>(`/groups/${enc(props.group)}`), [props.group], 2000);
  const [history, setHistory] = useState<{ t: number[]; lag: number[] }>({ t: [], lag: [] });
  const seen = useRef<GroupDetail | null>(null);
  useEffect(() => setHistory({ t: [], lag: [] }), [props.group]);
  useEffect(() => {
    if (!g.data || g.data === seen.current) return;
    seen.current = g.data;
    const lag = g.data.lag;
    setHistory((h) => ({ t: [...h.t, Date.now()].slice(-LAG_POINTS), lag: [...h.lag, lag].slice(-LAG_POINTS) }));
  }, [g.data]);
  const d = g.data;
  return (
    <div>
      <PageHeader title={<>Group {props.group}</>} />
      <p>
        <Link href="/groups">← all groups</Link>
      </p>
      <ErrorBanner error={g.error} />
      {g.loading && !d ? <Loading what="the group" /> : null}
      {d ? (
        <>
          <div class="tiles">
            <div class="tile" data-testid="group-lag" data-value={String(d.lag)}>
              <span>Total lag</span>
              <b>{d.lag}</b>
            </div>
            <div class="tile">
              <span>State</span>
              <b>{d.online ? 'online' : 'offline'}</b>
            </div>
            <div class="tile">
              <span>Members</span>
              <b>{d.members.length}</b>
            </div>
          </div>
          <TimeChart
            title="Lag (messages behind)"
            testId="chart-lag"
            integer
            times={history.t}
            format={(v) => v.toFixed(0)}
            series={[{ label: 'lag', color: '#dc2626', values: history.lag }]}
          />
          <Facts
            items={[
              ['Consume type', d.consumeType ?? '—'],
              ['Message model', d.messageModel ?? '—'],
              ['Consume from', d.consumeFromWhere ?? '—'],
            ]}
          />
          <h2>Per-queue lag</h2>
          {d.queues.length === 0 ? (
            <Empty>No committed offsets yet.</Empty>
          ) : (
            <table class="data" data-testid="group-queues">
              <thead>
                <tr>
                  <th>Topic</th>
                  <th class="num">Queue</th>
                  <th class="num">Broker offset</th>
                  <th class="num">Consumer offset</th>
                  <th class="num">Lag</th>
                </tr>
              </thead>
              <tbody>
                {d.queues.map((q) => (
                  <tr key={`${q.topic}/${q.queueId}`}>
                    <td>{q.topic}</td>
                    <td class="num">{q.queueId}</td>
                    <td class="num">{q.brokerOffset}</td>
                    <td class="num">{q.consumerOffset}</td>
                    <td class="num">{q.lag}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Members</h2>
          {d.members.length === 0 ? (
            <Empty>No member online.</Empty>
          ) : (
            <table class="data">
              <thead>
                <tr>
                  <th>Client id</th>
                  <th>Address</th>
                  <th>Language</th>
                  <th>Last heartbeat</th>
                </tr>
              </thead>
              <tbody>
                {d.members.map((m) => (
                  <tr key={m.clientId}>
                    <td>{m.clientId}</td>
                    <td>{m.address}</td>
                    <td>{m.language}</td>
                    <td>{ago(m.lastHeartbeat)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Subscriptions</h2>
          {d.subscriptions.length === 0 ? (
            <Empty>None known (the group is offline or has not subscribed).</Empty>
          ) : (
            <ul class="plain">
              {d.subscriptions.map((s) => (
                <li key={s.topic}>
                  <code>{s.topic}</code> {s.expressionType} <code>{s.expression}</code>
                </li>
              ))}
            </ul>
          )}
          <OffsetActions group={props.group} topics={[...new Set(d.queues.map((q) => q.topic))]} onDone={g.reload} />
        </>
      ) : null}
    </div>
  );
}

function localInputValue(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

function OffsetActions(props: { group: string; topics: string[]; onDone: () => void }): JSX.Element {
  const [topic, setTopic] = useState('');
  const [when, setWhen] = useState(() => localInputValue(Date.now() - 3600_000));
  const [result, setResult] = useState<string | null>(null);
  const act = useAction();
  const body = topic === '' ? {} : { topic };
  const done = (r: OffsetMoves | undefined, what: string) => {
    if (!r) return;
    setResult(`${what}: ${r.queues.length} queue(s) moved.`);
    props.onDone();
  };
  return (
    <section class="panel">
      <h2>Offsets</h2>
      <p class="muted">Only while the group is offline: online members keep their offsets in memory and would write them back.</p>
      <div class="inline-form">
        <label>
          Topic
          <select value={topic} onChange={(e) => setTopic(e.currentTarget.value)}>
            <option value="">every topic</option>
            {props.topics.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Reset to time
          <input type="datetime-local" step={1} value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
        </label>
        <button
          type="button"
          disabled={act.busy}
          onClick={() => {
            setResult(null);
            const timestamp = new Date(when).getTime();
            void act
              .run(() => api<OffsetMoves>(`/groups/${enc(props.group)}/reset-offset`, { method: 'POST', body: { ...body, timestamp } }))
              .then((r) => done(r, `Reset to ${when.replace('T', ' ')}`));
          }}
        >
          Reset offsets
        </button>
        <ConfirmButton
          label="Skip backlog"
          danger
          confirm="Move every queue to its end?"
          disabled={act.busy}
          onConfirm={() => {
            setResult(null);
            void act.run(() => api<OffsetMoves>(`/groups/${enc(props.group)}/skip-backlog`, { method: 'POST', body })).then((r) => done(r, 'Backlog skipped'));
          }}
        />
      </div>
      <ErrorBanner error={act.error} onClose={act.clear} />
      {result ? <Notice kind="ok">{result}</Notice> : null}
    </section>
  );
}
