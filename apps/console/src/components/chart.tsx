import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  /** One value per time; null leaves a gap. */
  values: Array<number | null>;
  color: string;
}

export interface TimeChartProps {
  title: string;
  /** Sample times, epoch ms. */
  times: number[];
  series: ChartSeries[];
  /** How a value reads on the axis and in the legend. */
  format: (v: number) => string;
  /** Shown instead of the chart when there is nothing to draw (e.g. "n/a"). */
  empty?: string | undefined;
  /** data-testid of the chart's box (tests read the latest values from its legend). */
  testId?: string | undefined;
  height?: number;
  /** The values are counts: axis steps of whole numbers. */
  integer?: boolean;
}

const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1e6, 1e7];
const MIN_WINDOW_S = 60;

/** The x scale spans the samples, and at least the last minute, so the first few do not stretch across the chart. */
function fitX(u: uPlot, times: number[]): void {
  if (times.length === 0) return;
  const max = times[times.length - 1]! / 1000;
  u.setScale('x', { min: Math.min(times[0]! / 1000, max - MIN_WINDOW_S), max });
}

/**
 * A live time-series chart (uPlot on a canvas) with its own legend: each series' latest value
 * as text, also in `data-value`, so the figure can be read without looking at pixels.
 */
export function TimeChart(props: TimeChartProps): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const formatRef = useRef(props.format);
  formatRef.current = props.format;
  const shape = props.series.map((s) => `${s.label}:${s.color}`).join('|');
  const height = props.height ?? 180;
  const hasData = props.times.length > 0 && props.empty === undefined;

  useEffect(() => {
    const el = box.current;
    if (!el || !hasData) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      // x: set by fitX (at least a minute wide); y: from 0, with headroom above the highest value.
      scales: {
        x: { time: true, auto: false },
        y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        { stroke: '#5b6472', grid: { stroke: '#eceef2' }, ticks: { stroke: '#d5d9e0' } },
        {
          stroke: '#5b6472',
          grid: { stroke: '#eceef2' },
          ticks: { stroke: '#d5d9e0' },
          size: 84,
          values: (_u, splits) => splits.map((v) => formatRef.current(v)),
          ...(props.integer ? { incrs: INTEGER_STEPS } : {}),
        },
      ],
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, fill: `${s.color}18`, points: { show: false } }))],
    };
    const u = new uPlot(opts, dataOf(props), el);
    fitX(u, props.times);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, hasData, height, props.integer]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.setData(dataOf(props), false);
    fitX(u, props.times);
  }, [props.times, props.series]);

  return (
    <section class="chart" data-testid={props.testId}>
      <header>
        <h3>{props.title}</h3>
        <ul class="legend">
          {props.series.map((s) => {
            const v = lastValue(s.values);
            return (
              <li key={s.label} data-series={s.label} data-value={v === null ? '' : String(v)}>
                <i style={{ background: s.color }} />
                {s.label} <b>{v === null || props.empty !== undefined ? 'n/a' : props.format(v)}</b>
              </li>
            );
          })}
        </ul>
      </header>
      {hasData ? (
        <div class="plot" ref={box} />
      ) : (
        <div class="plot empty" style={{ height: `${height}px` }}>
          {props.empty ?? 'waiting for samples…'}
        </div>
      )}
    </section>
  );
}

function dataOf(p: TimeChartProps): uPlot.AlignedData {
  return [p.times.map((t) => t / 1000), ...p.series.map((s) => s.values)];
}

function lastValue(values: Array<number | null>): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i]!;
  return null;
}
