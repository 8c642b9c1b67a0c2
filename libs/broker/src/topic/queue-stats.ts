import type { TopicConfig } from '@apogee/store';
import type { Engine } from '../engine.js';

/** One queue of a topic as admin tools show it (RocketMQ TopicOffset). */
export interface QueueStats {
  queueId: number;
  minOffset: number;
  maxOffset: number;
  /** Store time of the newest message; 0 for an empty queue. */
  lastStoreTimestamp: number;
}

/** Every queue of a topic (the larger of its read and write counts) with its bounds and newest store time. */
export async function topicQueueStats(engine: Pick<Engine, 'minOffset' | 'maxOffset' | 'read'>, cfg: TopicConfig): Promise<QueueStats[]> {
  const topic = cfg.topicName;
  const out: QueueStats[] = [];
  for (let q = 0; q < Math.max(cfg.readQueueNums, cfg.writeQueueNums); q++) {
    const minOffset = engine.minOffset(topic, q);
    const maxOffset = engine.maxOffset(topic, q);
    let lastStoreTimestamp = 0;
    if (maxOffset > minOffset) lastStoreTimestamp = (await engine.read(topic, q, maxOffset - 1, 1)).messages[0]?.storeTimestamp ?? 0;
    out.push({ queueId: q, minOffset, maxOffset, lastStoreTimestamp });
  }
  return out;
}
