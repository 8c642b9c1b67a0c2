import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { Empty, ErrorBanner, Facts, Loading, PageHeader } from '../components/ui.js';
import { bytes, fromBase64, hexDump, time } from '../format.js';
import { useApi } from '../hooks.js';
import { Link, navigate } from '../router.js';
import type { Message, MessageTrace } from '../types.js';

type Mode = 'key' | 'range' | 'id';

function modeOf(q: URLSearchParams): Mode {
  if (q.has('id')) return 'id';
  if (q.has('queueId')) return 'range';
  return 'key';
}

function localInput(ms: number): string {
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** Search by topic + key, by topic + queue + time range, or by message id; the search lives in the URL (?topic=&key=…). */
export function MessagesPage(props: { query: URLSearchParams }): JSX.Element {
  const q = props.query;
  const [mode, setMode] = useState<Mode>(modeOf(q));
  const [topic, setTopic] = useState(q.get('topic') ?? '');
  const [key, setKey] = useState(q.get('key') ?? '');
  const [queueId, setQueueId] = useState(q.get('queueId') ?? '0');
  const [begin, setBegin] = useState(q.has('begin') ? localInput(Number(q.get('begin'))) : localInput(Date.now() - 3600_000));
  const [end, setEnd] = useState(q.has('end') ? localInput(Number(q.get('end'))) : localInput(Date.now() + 60_000));
  const [id, setId] = useState(q.get('id') ?? '');
  const search = q.toString();

  const submit = (e: Event) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (mode === 'id') {
      const trimmed = id.trim();
      if (topic.trim() !== '') p.set('topic', topic.trim());
      navigate(`/messages/${enc(trimmed)}${p.size ? `?${p}` : ''}`);
      return;
    }
    p.set('topic', topic.trim());
    if (mode === 'key') p.set('key', key.trim());
    else {
      p.set('queueId', queueId);
      p.set('begin', String(new Date(begin).getTime()));
      p.set('end', String(new Date(end).getTime()));
    }
    navigate(`/messages?${p}`);
  };

  return (
    <div>
      <PageHeader title="Messages" />
      <div class="tabs" role="tablist">
        {(
          [
            ['key', 'By key'],
            ['range', 'By queue and time'],
            ['id', 'By message id'],
          ] as Array<[Mode, string]>
        ).map(([m, label]) => (
          <button key={m} type="button" role="tab" aria-selected={mode === m} class={mode === m ? 'active' : ''} onClick={() => setMode(m)}>
            {label}
          </button>
        ))}
      </div>
      <form class="inline-form" onSubmit={submit} aria-label="search messages">
        <label>
          Topic{mode === 'id' ? ' (for a client message id)' : ''}
          <input name="topic" value={topic} onInput={(e) => setTopic(e.currentTarget.value)} required={mode !== 'id'} />
        </label>
        {mode === 'key' ? (
          <label>
            Key
            <input name="key" value={key} onInput={(e) => setKey(e.currentTarget.value)} required />
          </label>
        ) : null}
        {mode === 'range' ? (
          <>
            <label>
              Queue
              <input name="queueId" type="number" min={0} class="narrow" value={queueId} onInput={(e) => setQueueId(e.currentTarget.value)} />
            </label>
            <label>
              From
              <input type="datetime-local" value={begin} onInput={(e) => setBegin(e.currentTarget.value)} />
            </label>
            <label>
              To
              <input type="datetime-local" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
            </label>
          </>
        ) : null}
        {mode === 'id' ? (
          <label class="wide">
            Message id
            <input name="id" value={id} onInput={(e) => setId(e.currentTarget.value)} required placeholder="offset message id or client message id" />
          </label>
        ) : null}
        <button type="submit" class="primary">
          {mode === 'id' ? 'Open' : 'Search'}
        </button>
      </form>
      {q.has('topic') && (q.has('key') || q.has('queueId')) ? <Results key={search} search={search} /> : null}
    </div>
  );
}

function Results(props: { search: string }): JSX.Element {
  const r = useApi(() => api<{ messages: Message[]; more?: boolean }>(`/messages?${props.search}`), [props.search]);
  const topic = new URLSearchParams(props.search).get('topic') ?? '';
  return (
    <section>
      <ErrorBanner error={r.error} />
      {r.loading ? <Loading what="messages" /> : null}
      {r.data && r.data.messages.length === 0 ? <Empty>No message found.</Empty> : null}
      {r.data && r.data.messages.length > 0 ? (
        <table class="data" data-testid="message-results">
          <thead>
            <tr>
              <th>Message id</th>
              <th>Keys</th>
              <th>Tags</th>
              <th class="num">Queue</th>
              <th class="num">Offset</th>
              <th>Stored</th>
              <th class="num">Size</th>
            </tr>
          </thead>
          <tbody>
            {r.data.messages.map((m) => (
              <tr key={m.msgId}>
                <td>
                  <Link href={`/messages/${enc(m.msgId)}?topic=${enc(topic)}`}>
                    <code>{m.msgId}</code>
                  </Link>
                </td>
                <td>{m.keys.join(' ')}</td>
                <td>{m.tags ?? ''}</td>
                <td class="num">{m.queueId}</td>
                <td class="num">{m.queueOffset}</td>
                <td>{time(m.storeTimestamp)}</td>
                <td class="num">{bytes(m.bodySize)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {r.data?.more ? <p class="muted">More messages follow: narrow the time range.</p> : null}
    </section>
  );
}

type BodyView = 'text' | 'json' | 'hex';

export function MessagePage(props: { id: string; topic: string | null }): JSX.Element {
  const suffix = props.topic ? `?topic=${enc(props.topic)}` : '';
  const m = useApi(() => api<Message>(`/messages/${enc(props.id)}${suffix}`), [props.id, props.topic]);
  const [tab, setTab] = useState<'message' | 'trace'>('message');
  const d = m.data;
  return (
    <div>
      <PageHeader title="Message" />
      <p>
        <a
          href="/messages"
          onClick={(e) => {
            e.preventDefault();
            history.back();
          }}
        >
          ← back
        </a>
      </p>
      <p>
        <code class="big">{props.id}</code>
      </p>
      <div class="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'message'} class={tab === 'message' ? 'active' : ''} onClick={() => setTab('message')}>
          Message
        </button>
        <button type="button" role="tab" aria-selected={tab === 'trace'} class={tab === 'trace' ? 'active' : ''} onClick={() => setTab('trace')}>
          Trace
        </button>
      </div>
      {tab === 'message' ? (
        <>
          <ErrorBanner error={m.error} />
          {m.loading ? <Loading what="the message" /> : null}
          {d ? <MessageDetail m={d} /> : null}
        </>
      ) : (
        <Trace id={props.id} topic={props.topic ?? d?.topic ?? null} />
      )}
    </div>
  );
}

function MessageDetail(props: { m: Message }): JSX.Element {
  const m = props.m;
  const [view, setView] = useState<BodyView>(m.body.json !== null ? 'json' : m.body.text !== null ? 'text' : 'hex');
  let shown: string;
  if (view === 'json') shown = m.body.json !== null ? JSON.stringify(m.body.json, null, 2) : 'The body is not JSON.';
  else if (view === 'text') shown = m.body.text ?? 'The body is not UTF-8 text: see hex.';
  else shown = hexDump(fromBase64(m.body.base64));
  const cut = fromBase64(m.body.base64).length < m.bodySize;
  return (
    <>
      <Facts
        items={[
          ['Topic', <Link href={`/topics/${enc(m.topic)}`}>{m.topic}</Link>],
          ['Queue / offset', `${m.queueId} / ${m.queueOffset}`],
          ['Keys', m.keys.join(' ') || '—'],
          ['Tags', m.tags ?? '—'],
          ['Client message id', m.uniqKey ?? '—'],
          ['Born', `${time(m.bornTimestamp)} at ${m.bornHost}`],
          ['Stored', `${time(m.storeTimestamp)} at ${m.storeHost}`],
          ['Reconsumed', String(m.reconsumeTimes)],
          ['Body size', bytes(m.bodySize)],
          ['Commit-log offset', String(m.commitLogOffset)],
        ]}
      />
      <h2>Body</h2>
      <div class="tabs small" role="tablist" aria-label="body view">
        {(['text', 'json', 'hex'] as BodyView[]).map((v) => (
          <button key={v} type="button" role="tab" aria-selected={view === v} class={view === v ? 'active' : ''} onClick={() => setView(v)}>
            {v === 'json' ? 'JSON' : v === 'hex' ? 'Hex' : 'Text'}
          </button>
        ))}
      </div>
      <pre class="body" data-testid="message-body" data-view={view}>
        {shown}
      </pre>
      {cut ? <p class="muted">Only the first {bytes(fromBase64(m.body.base64).length)} are shown.</p> : null}
      <h2>Properties</h2>
      <table class="data" data-testid="message-properties">
        <tbody>
          {Object.entries(m.properties)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => (
              <tr key={k}>
                <th>{k}</th>
                <td>
                  <code>{v}</code>
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </>
  );
}

/** GET /api/v1/messages/:id/trace: the message's timeline (docs/trace.md), one row per event. */
function Trace(props: { id: string; topic: string | null }): JSX.Element {
  const suffix = props.topic ? `?topic=${enc(props.topic)}` : '';
  const t = useApi(() => api<MessageTrace>(`/messages/${enc(props.id)}/trace${suffix}`), [props.id, props.topic]);
  const events = t.data?.events ?? null;
  return (
    <section data-testid="trace">
      <ErrorBanner error={t.error} />
      {t.loading ? <Loading what="the trace" /> : null}
      {events && events.length === 0 ? <Empty>No trace records for this message{t.data?.found ? '' : ', and no such message on this broker'}.</Empty> : null}
      {events && events.length > 0 ? (
        <table class="data">
          <thead>
            <tr>
              <th>time</th>
              <th>event</th>
              <th>source</th>
              <th>group</th>
              <th>client</th>
              <th>where</th>
              <th>retries</th>
              <th>result</th>
              <th>cost</th>
              <th>detail</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e, i) => (
              <tr key={i} data-kind={e.kind}>
                <td>{time(e.timestamp)}</td>
                <td>{e.kind}</td>
                <td title={e.source === 'derived' ? 'told by the message and the group offsets, not by a record' : undefined}>{e.source}</td>
                <td>{e.group ?? ''}</td>
                <td>{[e.client, e.protocol].filter(Boolean).join(' · ')}</td>
                <td>
                  {[e.topic, e.queueId !== undefined ? `q${e.queueId}` : null, e.queueOffset !== undefined ? `@${e.queueOffset}` : null, e.storeHost]
                    .filter(Boolean)
                    .join(' ')}
                </td>
                <td>{e.reconsumeTimes ?? ''}</td>
                <td>{e.success === undefined ? '' : e.success ? 'ok' : 'failed'}</td>
                <td>{e.costMs !== undefined ? `${e.costMs} ms` : ''}</td>
                <td>{e.detail ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {t.data && t.data.skippedRecords > 0 ? <p class="muted">{t.data.skippedRecords} trace record pieces could not be read.</p> : null}
    </section>
  );
}
