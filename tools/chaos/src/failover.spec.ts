import { describe, expect, it } from 'vitest';
import type { FaultFigures } from './checker.js';
import { failoverFigures, summarizeByKind } from './failover.js';
import type { MasterSample } from './topology.js';

const g = 'broker-ha';
const samples: MasterSample[] = [
  { atMs: 100, group: g, host: 'b1', brokerId: 1, epoch: 1 },
  // fault 0 (kill of b1) at 5000: the key goes at 6900, b2 is master at 7200
  { atMs: 6900, group: g, host: null },
  { atMs: 7200, group: g, host: 'b2', brokerId: 2, epoch: 2 },
  // fault 1 at 20000 (a loss on b2, no failover)
];

function fault(index: number, kind: string, startMs: number, healMs: number, unavailableSec: number): FaultFigures {
  return { index, kind, startMs, healMs, unavailableSec, recovered: true, ackedDuring: 0, failedDuring: 0, ackedByGroupDuring: {} };
}

describe('failover figures', () => {
  const faults = [fault(0, 'kill', 5000, 12_000, 2.6), fault(1, 'loss', 20_000, 25_000, 0.4), fault(2, 'kill', 30_000, 35_000, 3.1)];
  const acks = [4990, 7550, 7560, 20_100];
  const next = (i: number): number => [20_000, 30_000, 40_000][i]!;

  it('finds when the key went, when a higher epoch was elected and the first ack after it', () => {
    const f = failoverFigures(faults, samples, acks, next);
    expect(f[0]).toEqual({
      index: 0,
      kind: 'kill',
      group: g,
      from: 'b1',
      fromEpoch: 1,
      to: 'b2',
      toEpoch: 2,
      keyGoneSec: 1.9,
      electedSec: 2.2,
      firstAckAfterElectedSec: 0.35,
    });
    // No change during the loss: the master of the time, nothing else.
    expect(f[1]).toEqual({ index: 1, kind: 'loss', group: g, from: 'b2', fromEpoch: 2 });
    // No sample after the start and no ack after it within the fault's span.
    expect(f[2]).toEqual({ index: 2, kind: 'kill', group: g, from: 'b2', fromEpoch: 2 });
  });

  it('summarizes unavailable seconds per kind, with failover averages where the master changed', () => {
    const s = summarizeByKind(faults, failoverFigures(faults, samples, acks, next));
    expect(s).toEqual([
      {
        kind: 'kill',
        faults: 2,
        failovers: 1,
        reelections: 0,
        avgUnavailableSec: 2.85,
        minUnavailableSec: 2.6,
        maxUnavailableSec: 3.1,
        avgKeyGoneSec: 1.9,
        avgElectedSec: 2.2,
        avgFirstAckAfterElectedSec: 0.35,
      },
      { kind: 'loss', faults: 1, failovers: 0, reelections: 0, avgUnavailableSec: 0.4, minUnavailableSec: 0.4, maxUnavailableSec: 0.4 },
    ]);
  });
});
