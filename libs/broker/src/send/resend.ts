import { type MessageExt, PropertyKey } from '@apogee/message';
import type { PutMessage } from '@apogee/store';

/** sysFlag bits of the born/store host kinds: the store recomputes them from the hosts it is given. */
const HOST_KIND_BITS = 0x30;

/**
 * The properties of a stored message, copied to put it anew elsewhere — the one place that
 * decides what a copy keeps (a retry, a dead letter, a delayed message's return to its topic):
 * never the record's checksum (the store stamps its own); unless kept, neither its LMQ fan-out
 * (a copy belongs to one consumer group, not to the topic space) nor its delay level.
 */
export function resendProperties(props: ReadonlyMap<string, string>, keep: { dispatch?: boolean; delay?: boolean } = {}): Map<string, string> {
  const out = new Map(props);
  out.delete(PropertyKey.CRC32);
  if (!keep.dispatch) {
    out.delete(PropertyKey.INNER_MULTI_DISPATCH);
    out.delete(PropertyKey.INNER_MULTI_QUEUE_OFFSET);
  }
  if (!keep.delay) out.delete(PropertyKey.DELAY_TIME_LEVEL);
  return out;
}

/** A stored message as a store put to `target` with `properties` (see resendProperties). */
export function resendPut(
  m: MessageExt,
  target: { topic: string; queueId: number },
  properties: Map<string, string>,
  reconsumeTimes = m.reconsumeTimes,
): PutMessage {
  return {
    topic: target.topic,
    queueId: target.queueId,
    body: m.body,
    flag: m.flag,
    properties,
    sysFlag: m.sysFlag & ~HOST_KIND_BITS,
    bornTimestamp: m.bornTimestamp,
    bornHost: m.bornHost,
    reconsumeTimes,
  };
}
