import { describe, expect, it } from 'vitest';
import { lagByGroupAndTopic } from './group-lag.js';

const progress: Record<string, Array<{ topic: string; lag: number }>> = {
  g1: [
    { topic: 'A', lag: 2 },
    { topic: 'A', lag: 3 },
    { topic: 'B', lag: 0 },
    { topic: '%LMQ%x', lag: 7 },
  ],
  g2: [{ topic: 'B', lag: 1 }],
};
const source = { groupProgress: (g: string) => progress[g] ?? [] };
const configured = (t: string) => !t.startsWith('%LMQ%');

describe('lagByGroupAndTopic', () => {
  it('sums the queues of each topic, and unconfigured topics into _other', () => {
    expect(lagByGroupAndTopic(source, ['g1', 'g2', 'none'], configured)).toEqual([
      { group: 'g1', topic: 'A', lag: 5 },
      { group: 'g1', topic: 'B', lag: 0 },
      { group: 'g2', topic: 'B', lag: 1 },
      { group: '_other', topic: '_other', lag: 7 },
    ]);
  });

  it('folds pairs past the cap into _other', () => {
    expect(lagByGroupAndTopic(source, ['g1', 'g2'], () => true, 2)).toEqual([
      { group: 'g1', topic: 'A', lag: 5 },
      { group: 'g1', topic: 'B', lag: 0 },
      { group: '_other', topic: '_other', lag: 8 },
    ]);
  });

  it('has no _other series when nothing was folded', () => {
    expect(lagByGroupAndTopic(source, ['g2'], configured)).toEqual([{ group: 'g2', topic: 'B', lag: 1 }]);
  });
});
