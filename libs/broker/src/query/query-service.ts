import type { KeyLookupHit, MessageStore } from '@apogee/store';
import { BrokerError } from '../errors.js';

/** Message lookup by key, unique key and commit-log offset (QUERY_MESSAGE, VIEW_MESSAGE_BY_ID). */
export class QueryService {
  constructor(private readonly store: MessageStore) {}

  async byKey(topic: string, key: string, maxNum: number, begin: number, end: number, unique: boolean): Promise<KeyLookupHit[]> {
    if (!key) throw new BrokerError('INVALID_PARAMETER', 'key is empty');
    const max = Math.max(1, Math.min(maxNum > 0 ? maxNum : 32, 64));
    const e = end > 0 ? end : Number.MAX_SAFE_INTEGER;
    const hits = unique ? await this.store.queryByUniqueKey(topic, key, begin, e) : await this.store.queryByKey(topic, key, max, begin, e);
    return hits.slice(0, unique ? 32 : max);
  }

  async byOffset(commitLogOffset: number): Promise<Buffer> {
    if (!Number.isSafeInteger(commitLogOffset) || commitLogOffset < 0)
      throw new BrokerError('INVALID_PARAMETER', `offset ${commitLogOffset} is not a commit-log offset`);
    const rec = await this.store.readRecord(commitLogOffset);
    if (!rec) throw new BrokerError('NOT_FOUND', `no message at commit-log offset ${commitLogOffset} (expired, never stored, or not a record boundary)`);
    return rec;
  }
}
