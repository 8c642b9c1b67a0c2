/**
 * Scenario d: LMQ fan-out. Cost per message (put until resolved, plus the close() that persists
 * the deferred index writes) when each message is dispatched into 0, 1, 10 and 100 LMQs drawn from
 * a rotating pool. Runs alternate over the fan-outs; 10 and 100 are compared with 1.
 */
import { alternate, runLabel, pump } from '../../runner.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { makeBody, MiB, pick, runsFor, TOPIC, withStore } from './common.js';
import { rotatingDispatch } from './lmq.js';

const POOL = 1000;
const BODY_BYTES = 256;
const WINDOW = 1024;
const FANOUTS = [0, 1, 10, 100] as const;

export const lmqFanout: Scenario = {
  name: 'lmq-fanout',
  description: `cost per message dispatched into 0/1/10/100 LMQs (pool of ${POOL}, ${BODY_BYTES} B bodies, ${WINDOW} in flight)`,
  async run(ctx: BenchContext): Promise<void> {
    const body = makeBody(BODY_BYTES);
    const durationMs = pick(ctx, 350, 2500);
    const maxMessages = (k: number): number => pick(ctx, 1, 5) * (k >= 100 ? 20_000 : k >= 10 ? 80_000 : 200_000);

    const variant =
      (k: number) =>
      async (run: number): Promise<number> => {
        const props = k > 0 ? rotatingDispatch(`fan${k}`, k, POOL) : null;
        return withStore(ctx, `lmq-fanout-${k}`, { flushMode: 'ASYNC_FLUSH', segmentSize: 64 * MiB }, async (store, handle) => {
          let wrongFanout = 0;
          const r = await pump({
            window: WINDOW,
            maxOps: maxMessages(k),
            durationMs,
            op: (i) => {
              const p = props
                ? store.put({ topic: TOPIC, queueId: 0, body, properties: props[i % props.length]! })
                : store.put({ topic: TOPIC, queueId: 0, body });
              return p.then((res) => {
                if (res.lmqOffsets.length !== k) wrongFanout++;
              });
            },
          });
          const t0 = performance.now();
          await handle.close();
          const closeMs = performance.now() - t0;
          if (wrongFanout > 0) throw new Error(`${wrongFanout} puts into ${k} LMQs came back with another number of lmqOffsets`);
          const us = ((r.elapsedMs + closeMs) * 1000) / r.ops;
          ctx.log(
            `   ${runLabel(run)} ${String(k).padStart(3)} LMQs: ${r.ops} msgs in ${r.elapsedMs.toFixed(0)} ms + close ${closeMs.toFixed(0)} ms = ${us.toFixed(2)} µs/msg`,
          );
          return us;
        });
      };

    const samples = await alternate(runsFor(ctx), FANOUTS.map(variant), { warmup: true });
    const [none, one, ten, hundred] = samples as [number[], number[], number[], number[]];
    const add = (metric: string, s: number[], baseline: { name: string; samples: number[] } | null, target?: { label: string; value: number }): void => {
      ctx.report.add({
        scenario: 'lmq-fanout',
        metric,
        unit: 'µs/msg',
        better: 'lower',
        samples: s,
        baseline,
        ...(target ? { target: { on: 'ratio' as const, op: '>=' as const, value: target.value, label: target.label } } : {}),
      });
    };
    add('put into 1 LMQ', one, { name: 'put into no LMQ', samples: none });
    add('put into 10 LMQs', ten, { name: 'put into 1 LMQ', samples: one }, { label: '10-vs-1 ≤ 1.5× (ratio ≥ 0.67)', value: 1 / 1.5 });
    add('put into 100 LMQs', hundred, { name: 'put into 1 LMQ', samples: one });
  },
};
