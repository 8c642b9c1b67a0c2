import type { MessageStore } from '@apogee/store';
import { BrokerError } from '../errors.js';
import { checkTopicName } from '../topic/topic-manager.js';
import type { GroupManager } from '../group/group-manager.js';

/** Consumer offsets (RocketMQ ConsumerOffsetManager + ConsumerManageProcessor rules). */
export class OffsetService {
  constructor(
    private readonly store: MessageStore,
    private readonly groups: GroupManager,
  ) {}

  /**
   * The group's committed offset. When none is stored: with setZeroIfNotFound=false, undefined;
   * else 0 if the queue still starts at offset 0 and holds messages (a brand-new group reads a young
   * queue from its start, as RocketMQ does), otherwise undefined (QUERY_NOT_FOUND).
   */
  query(group: string, topic: string, queueId: number, setZeroIfNotFound = true): number | undefined {
    const stored = this.store.getConsumerOffset(group, topic, queueId);
    if (stored !== undefined && stored >= 0) return stored;
    if (!setZeroIfNotFound) return undefined;
    if (this.store.getMinOffset(topic, queueId) <= 0 && this.store.getMaxOffset(topic, queueId) > 0) return 0;
    return undefined;
  }

  /** Stores an offset; negative offsets (ali-ons persists -1 for "none") are ignored. */
  async commit(group: string, topic: string, queueId: number, offset: number): Promise<void> {
    if (!Number.isSafeInteger(offset)) throw new BrokerError('INVALID_PARAMETER', `commitOffset ${offset} is not an integer`);
    if (offset < 0) return;
    // A name the store refuses is the client's error (INVALID_PARAMETER naming the limit), not a failure.
    checkTopicName(topic);
    this.groups.getOrCreate(group);
    await this.store.commitOffset(group, topic, queueId, offset);
  }
}
