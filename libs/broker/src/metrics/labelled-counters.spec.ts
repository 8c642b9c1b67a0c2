import { describe, expect, it } from 'vitest';
import { GroupConsumptionTable, OTHER_LABEL, TopicCountersTable } from './labelled-counters.js';

describe('TopicCountersTable', () => {
  it('hands out one counters object per topic, the same on every call', () => {
    const t = new TopicCountersTable();
    const a = t.of('A');
    a.messagesIn += 3;
    expect(t.of('A')).toBe(a);
    expect([...t.entries()]).toEqual([['A', { messagesIn: 3, bytesIn: 0, messagesOut: 0 }]]);
  });

  it('folds topics past the cap into one shared series, and frees a slot when a topic goes', () => {
    const t = new TopicCountersTable(2);
    t.of('A').messagesIn++;
    t.of('B').messagesIn++;
    t.of('C').messagesIn += 5;
    t.of('D').messagesIn += 2;
    expect([...t.entries()].map(([n]) => n)).toEqual(['A', 'B']);
    expect(t.of('C')).toBe(t.other);
    expect(t.other.messagesIn).toBe(7);
    t.retain((topic) => topic !== 'A' && topic !== 'C');
    expect([...t.entries()].map(([n]) => n)).toEqual(['B']);
    t.of('E').messagesIn++;
    expect([...t.entries()].map(([n]) => n)).toEqual(['B', 'E']);
    // D was folded and stays folded: the _other series never goes down.
    expect(t.of('D')).toBe(t.other);
  });
});

describe('GroupConsumptionTable', () => {
  it('counts per (group, topic) and folds pairs past the cap into _other', () => {
    const g = new GroupConsumptionTable(2);
    g.add('g1', 'A', 2);
    g.add('g1', 'A', 3);
    g.add('g2', 'A', 1);
    g.add('g2', 'B', 4);
    expect([...g.entries()].map((c) => [c.group, c.topic, c.messages])).toEqual([
      ['g1', 'A', 5],
      ['g2', 'A', 1],
    ]);
    expect(g.other).toMatchObject({ group: OTHER_LABEL, topic: OTHER_LABEL, messages: 4 });
    g.retain((topic) => topic !== 'A');
    expect([...g.entries()]).toEqual([]);
    g.add('g3', 'C', 1);
    expect([...g.entries()].map((c) => c.group)).toEqual(['g3']);
  });
});
