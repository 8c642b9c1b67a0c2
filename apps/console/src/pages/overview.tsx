import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiFailure } from '../api.js';
import { TimeChart } from '../components/chart.js';
import { ErrorBanner, Loading, PageHeader } from '../components/ui.js';
import { bytes, rate } from '../format.js';
import { asFailure } from '../hooks.js';
import type { StatsSample } from '../types.js';

const POLL_MS = 1000;
const KEEP = 300;

/** Live charts of GET /api/v1/stats/overview, polled every second for the samples not seen yet. */
export function OverviewPage(): JSX.Element {
  const [samples, setSamples] = useState<StatsSample[] | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const newest = useRef(0);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const r = await api<{ samples: StatsSample[] }>(`/stats/overview${newest.current ? `?since=${newest.current}` : ''}`);
        if (!live) return;
        if (r.samples.length > 0) newest.current = r.samples[r.samples.length - 1]!.t;
        setSamples((old) => [...(old ?? []), ...r.samples].slice(-KEEP));
        setError(null);
      } catch (e) {
        if (live) setError(asFailure(e));
      }
      if (live) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, []);

  const s = samples ?? [];
  const times = s.map((x) => x.t);
  const last = s[s.length - 1];
  const fsyncKnown = s.some((x) => x.fsync !== null);
  return (
    <div>
      <PageHeader title="Overview">
        <span class="muted">one sample a second, last five minutes</span>
      </PageHeader>
      <ErrorBanner error={error} />
      {samples === null && !error ? <Loading what="samples" /> : null}
      {last ? (
        <div class="tiles">
          <Tile label="Messages in" value={`${rate(last.messagesIn)}/s`} testId="rate-in" raw={last.messagesIn} />
          <Tile label="Messages out" value={`${rate(last.messagesOut)}/s`} testId="rate-out" raw={last.messagesOut} />
          <Tile label="Connections" value={String(last.connections.remoting + last.connections.mqtt + last.connections.amqp)} />
          <Tile label="Store" value={bytes(last.storeBytes)} />
          <Tile label="Disk free" value={bytes(last.diskFreeBytes)} />
        </div>
      ) : null}
      <div class="charts">
        <TimeChart
          title="Messages per second"
          testId="chart-messages"
          times={times}
          format={rate}
          series={[
            { label: 'in', color: '#2563eb', values: s.map((x) => x.messagesIn) },
            { label: 'out', color: '#16a34a', values: s.map((x) => x.messagesOut) },
          ]}
        />
        <TimeChart
          title="Connections by protocol"
          testId="chart-connections"
          integer
          times={times}
          format={(v) => v.toFixed(0)}
          series={[
            { label: 'remoting', color: '#7c3aed', values: s.map((x) => x.connections.remoting) },
            { label: 'mqtt', color: '#ea580c', values: s.map((x) => x.connections.mqtt) },
            { label: 'amqp', color: '#0891b2', values: s.map((x) => x.connections.amqp) },
          ]}
        />
        <TimeChart
          title="Store size and disk free"
          testId="chart-store"
          times={times}
          format={bytes}
          series={[
            { label: 'store', color: '#2563eb', values: s.map((x) => x.storeBytes) },
            { label: 'disk free', color: '#64748b', values: s.map((x) => x.diskFreeBytes) },
          ]}
        />
        <TimeChart
          title="fsync latency"
          testId="chart-fsync"
          times={times}
          format={(v) => `${v.toFixed(v >= 10 ? 0 : 2)} ms`}
          empty={s.length > 0 && !fsyncKnown ? 'n/a: no fsync in the last 10 s (nothing written)' : undefined}
          series={[
            { label: 'p50', color: '#16a34a', values: s.map((x) => x.fsync?.p50Ms ?? null) },
            { label: 'p99', color: '#dc2626', values: s.map((x) => x.fsync?.p99Ms ?? null) },
          ]}
        />
      </div>
    </div>
  );
}

function Tile(props: { label: string; value: string; testId?: string; raw?: number }): JSX.Element {
  return (
    <div class="tile" data-testid={props.testId} data-value={props.raw === undefined ? undefined : String(props.raw)}>
      <span>{props.label}</span>
      <b>{props.value}</b>
    </div>
  );
}
