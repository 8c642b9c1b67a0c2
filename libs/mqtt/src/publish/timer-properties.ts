import { PropertyKey } from '@apogee/message';
import type { IPublishPacket } from 'mqtt-packet';

type UserProperties = NonNullable<NonNullable<IPublishPacket['properties']>['userProperties']>;

/** MQTT 5 user properties that make a publish a timer message, named as RocketMQ's properties (docs/timers.md). */
const TIMER_USER_PROPERTIES = [PropertyKey.TIMER_DELIVER_MS, PropertyKey.TIMER_DELAY_SEC, PropertyKey.TIMER_DELAY_MS] as const;

/**
 * Copies the timer user properties of a PUBLISH to the store properties, where the engine's send
 * path reads them; the user properties themselves go to subscribers unchanged [MQTT-3.3.2-17].
 * A repeated name counts by its last value.
 */
export function putTimerProperties(out: Map<string, string>, user: UserProperties | undefined): void {
  if (!user) return;
  for (const k of TIMER_USER_PROPERTIES) {
    const v = user[k];
    if (v === undefined) continue;
    out.set(k, String(Array.isArray(v) ? v[v.length - 1] : v));
  }
}
