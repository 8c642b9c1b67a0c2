/**
 * Most label sets one labelled family keeps (per topic, per group and topic). Past it, new label
 * sets are counted in the family's `_other` series: a broker with 50,000 topics still exposes a
 * bounded scrape (docs/metrics.md, "Cardinality").
 */
export const MAX_LABEL_SETS = 10_000;

/** The label value series past the cap are folded into. */
export const OTHER_LABEL = '_other';

/** What is counted per topic. */
export interface TopicCounters {
  /** Messages stored by sends to the topic (the topic the producer named, before delay or DLQ routing). */
  messagesIn: number;
  /** Their body bytes. */
  bytesIn: number;
  /** Messages returned by pulls of the topic. */
  messagesOut: number;
}

/**
 * Counters per topic, bounded: `of(topic)` is one Map lookup when the topic has been seen (the
 * send and pull paths call it once per request, never per message), and allocates only the first
 * time. The first MAX_LABEL_SETS topics get their own series; later ones share `other`. Only
 * configured topics ever get here (a send or pull of an unknown topic fails first), and `retain`
 * drops deleted ones at scrape time, so the map stays as large as the topic table at most.
 */
export class TopicCountersTable {
  private readonly byTopic = new Map<string, TopicCounters>();
  /** Counters of the topics past the cap. */
  readonly other: TopicCounters = newCounters();
  private labelled = 0;

  constructor(private readonly maxLabelSets = MAX_LABEL_SETS) {}

  of(topic: string): TopicCounters {
    return this.byTopic.get(topic) ?? this.admit(topic);
  }

  private admit(topic: string): TopicCounters {
    let c = this.other;
    if (this.labelled < this.maxLabelSets) {
      c = newCounters();
      this.labelled++;
    }
    this.byTopic.set(topic, c);
    return c;
  }

  /** Topics with their own series, in first-seen order. */
  *entries(): IterableIterator<[string, TopicCounters]> {
    for (const e of this.byTopic) if (e[1] !== this.other) yield e;
  }

  /** Forgets topics `keep` says no longer exist (called at scrape time); their series end. */
  retain(keep: (topic: string) => boolean): void {
    for (const [topic, c] of this.byTopic) {
      if (keep(topic)) continue;
      this.byTopic.delete(topic);
      if (c !== this.other) this.labelled--;
    }
  }
}

function newCounters(): TopicCounters {
  return { messagesIn: 0, bytesIn: 0, messagesOut: 0 };
}

/** One counter per (group, topic): messages a consumer group pulled from a topic. */
export interface GroupTopicCount {
  readonly group: string;
  readonly topic: string;
  messages: number;
}

/**
 * Messages consumed per (group, topic), bounded like TopicCountersTable: two Map lookups (group,
 * then topic) per pull that found messages, no allocation once the pair has been seen. Past
 * MAX_LABEL_SETS pairs, new ones count into `other` (`group="_other",topic="_other"`).
 */
export class GroupConsumptionTable {
  private readonly byGroup = new Map<string, Map<string, GroupTopicCount>>();
  readonly other: GroupTopicCount = { group: OTHER_LABEL, topic: OTHER_LABEL, messages: 0 };
  private labelled = 0;

  constructor(private readonly maxLabelSets = MAX_LABEL_SETS) {}

  add(group: string, topic: string, messages: number): void {
    let topics = this.byGroup.get(group);
    if (topics === undefined) this.byGroup.set(group, (topics = new Map()));
    let c = topics.get(topic);
    if (c === undefined) {
      c = this.other;
      if (this.labelled < this.maxLabelSets) {
        c = { group, topic, messages: 0 };
        this.labelled++;
      }
      topics.set(topic, c);
    }
    c.messages += messages;
  }

  /** Pairs with their own series. */
  *entries(): IterableIterator<GroupTopicCount> {
    for (const topics of this.byGroup.values()) for (const c of topics.values()) if (c !== this.other) yield c;
  }

  /** Forgets pairs whose topic no longer exists (scrape time). */
  retain(keepTopic: (topic: string) => boolean): void {
    for (const [group, topics] of this.byGroup) {
      for (const [topic, c] of topics) {
        if (keepTopic(topic)) continue;
        topics.delete(topic);
        if (c !== this.other) this.labelled--;
      }
      if (topics.size === 0) this.byGroup.delete(group);
    }
  }
}
