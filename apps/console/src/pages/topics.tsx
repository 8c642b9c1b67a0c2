import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { ConfirmButton, Empty, ErrorBanner, Facts, Loading, Notice, PageHeader } from '../components/ui.js';
import { perm, time } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import { Link, navigate } from '../router.js';
import type { TopicDetail, TopicSummary } from '../types.js';

const KINDS = ['normal', 'retry', 'dlq', 'system', 'all'] as const;

export function TopicsPage(): JSX.Element {
  const [kind, setKind] = useState<(typeof KINDS)[number]>('normal');
  const [filter, setFilter] = useState('');
  const list = useApi(() => api<{ topics: TopicSummary[] }>(`/topics${kind === 'all' ? '' : `?kind=${kind}`}`), [kind], 5000);
  const [done, setDone] = useState<string | null>(null);
  const del = useAction();
  const topics = (list.data?.topics ?? []).filter((t) => t.topicName.toLowerCase().includes(filter.toLowerCase()));
  return (
    <div>
      <PageHeader title="Topics">
        <input type="search" placeholder="filter by name" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} aria-label="filter topics" />
        <select value={kind} onChange={(e) => setKind(e.currentTarget.value as (typeof KINDS)[number])} aria-label="kind">
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </PageHeader>
      <CreateTopic
        onStart={() => setDone(null)}
        onCreated={(name) => {
          setDone(`Topic ${name} created.`);
          list.reload();
        }}
      />
      {done ? <Notice kind="ok">{done}</Notice> : null}
      <ErrorBanner error={list.error ?? del.error} onClose={del.error ? del.clear : undefined} />
      {list.loading && !list.data ? <Loading what="topics" /> : null}
      {list.data && topics.length === 0 ? (
        <Empty>
          No {kind === 'all' ? '' : kind} topics{filter ? ` matching “${filter}”` : ''}.
        </Empty>
      ) : null}
      {topics.length > 0 ? (
        <table class="data" data-testid="topics-table">
          <thead>
            <tr>
              <th>Topic</th>
              <th>Kind</th>
              <th class="num">Read queues</th>
              <th class="num">Write queues</th>
              <th>Perm</th>
              <th class="num">Messages</th>
              <th class="num" title="messages stored per second, last 10 s">
                In/s
              </th>
              <th class="num" title="messages pulled per second, last 10 s">
                Out/s
              </th>
              <th />
            </tr>
          </thead>
          <tbody>
            {topics.map((t) => (
              <tr key={t.topicName} data-topic={t.topicName}>
                <td>
                  <Link href={`/topics/${enc(t.topicName)}`}>{t.topicName}</Link>
                </td>
                <td>{t.kind}</td>
                <td class="num">{t.readQueueNums}</td>
                <td class="num">{t.writeQueueNums}</td>
                <td>
                  <code>{perm(t.perm)}</code>
                </td>
                <td class="num">{t.messages}</td>
                <td class="num">{t.rates ? t.rates.inPerSecond.toFixed(1) : '–'}</td>
                <td class="num">{t.rates ? t.rates.outPerSecond.toFixed(1) : '–'}</td>
                <td class="row-actions">
                  <ConfirmButton
                    label="Delete"
                    danger
                    confirm={`Delete ${t.topicName}?`}
                    disabled={del.busy}
                    onConfirm={() =>
                      void del.run(async () => {
                        await api(`/topics/${enc(t.topicName)}`, { method: 'DELETE' });
                        setDone(`Topic ${t.topicName} deleted (its stored messages age out with retention).`);
                        list.reload();
                      })
                    }
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function CreateTopic(props: { onStart: () => void; onCreated: (name: string) => void }): JSX.Element {
  const [name, setName] = useState('');
  const [queues, setQueues] = useState('8');
  const [order, setOrder] = useState(false);
  const act = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    props.onStart();
    void act.run(async () => {
      await api('/topics', { method: 'POST', body: { topic: name.trim(), queues: Number(queues), ...(order ? { order: true } : {}) } });
      props.onCreated(name.trim());
      setName('');
    });
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label="create topic">
      <label>
        New topic
        <input name="topic" placeholder="TopicName" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      </label>
      <label>
        Queues
        <input name="queues" type="number" min={1} max={1024} value={queues} onInput={(e) => setQueues(e.currentTarget.value)} class="narrow" />
      </label>
      <label class="check">
        <input type="checkbox" checked={order} onChange={(e) => setOrder(e.currentTarget.checked)} /> ordered
      </label>
      <button type="submit" class="primary" disabled={act.busy || name.trim() === ''}>
        Create
      </button>
      <ErrorBanner error={act.error} onClose={act.clear} />
    </form>
  );
}

export function TopicPage(props: { topic: string }): JSX.Element {
  const t = useApi(() => api<TopicDetail>(`/topics/${enc(props.topic)}`), [props.topic], 3000);
  const del = useAction();
  const d = t.data;
  return (
    <div>
      <PageHeader title={<>Topic {props.topic}</>}>
        <Link href={`/messages?topic=${enc(props.topic)}`}>Search messages</Link>
        <ConfirmButton
          label="Delete"
          danger
          confirm={`Delete ${props.topic}?`}
          onConfirm={() =>
            void del.run(async () => {
              await api(`/topics/${enc(props.topic)}`, { method: 'DELETE' });
              navigate('/topics');
            })
          }
        />
      </PageHeader>
      <p>
        <Link href="/topics">← all topics</Link>
      </p>
      <ErrorBanner error={t.error ?? del.error} />
      {t.loading && !d ? <Loading what="the topic" /> : null}
      {d ? (
        <>
          <Facts
            items={[
              ['Kind', d.kind],
              ['Read / write queues', `${d.readQueueNums} / ${d.writeQueueNums}`],
              ['Permission', <code>{perm(d.perm)}</code>],
              ['Ordered', d.order ? 'yes' : 'no'],
              ['Filter type', d.topicFilterType ?? 'SINGLE_TAG'],
              ['Messages', String(d.queues.reduce((n, q) => n + q.maxOffset - q.minOffset, 0))],
            ]}
          />
          <h2>Queues</h2>
          <table class="data" data-testid="queues-table">
            <thead>
              <tr>
                <th class="num">Queue</th>
                <th class="num">Min offset</th>
                <th class="num">Max offset</th>
                <th class="num">Messages</th>
                <th>Last stored</th>
              </tr>
            </thead>
            <tbody>
              {d.queues.map((q) => (
                <tr key={q.queueId}>
                  <td class="num">{q.queueId}</td>
                  <td class="num">{q.minOffset}</td>
                  <td class="num">{q.maxOffset}</td>
                  <td class="num">{q.maxOffset - q.minOffset}</td>
                  <td>{time(q.lastStoreTimestamp)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}
