import { MAX_LABEL_SETS, OTHER_LABEL } from './labelled-counters.js';

/** A group's backlog on one topic: messages stored and not yet committed, summed over the topic's queues. */
export interface GroupTopicLag {
  group: string;
  topic: string;
  lag: number;
}

/** What the lag is computed from: the per-queue progress the admin API shows (Broker.groupProgress). */
export interface GroupLagSource {
  groupProgress(group: string): ReadonlyArray<{ topic: string; lag: number }>;
}

/**
 * Lag per (group, topic), computed now (scrape time) from `groupProgress` — the same per-queue
 * figure as GET /api/v1/groups/:group, so the two never disagree. Topics `isLabelled` refuses
 * (LMQs, deleted topics) and pairs past `max` are summed into `group="_other",topic="_other"`
 * (present only when non-empty). Costs one offset-table read per queue of each group.
 */
export function lagByGroupAndTopic(
  source: GroupLagSource,
  groups: Iterable<string>,
  isLabelled: (topic: string) => boolean,
  max = MAX_LABEL_SETS,
): GroupTopicLag[] {
  const out: GroupTopicLag[] = [];
  const other: GroupTopicLag = { group: OTHER_LABEL, topic: OTHER_LABEL, lag: 0 };
  let folded = false;
  for (const group of groups) {
    const byTopic = new Map<string, number>();
    for (const q of source.groupProgress(group)) {
      if (!isLabelled(q.topic)) {
        other.lag += q.lag;
        folded = true;
      } else byTopic.set(q.topic, (byTopic.get(q.topic) ?? 0) + q.lag);
    }
    for (const [topic, lag] of byTopic) {
      if (out.length < max) out.push({ group, topic, lag });
      else {
        other.lag += lag;
        folded = true;
      }
    }
  }
  if (folded) out.push(other);
  return out;
}
