import { PropertyKey } from '@apogee/message';
import { type MessageLayout, namedMapValues } from '../codec/sections.js';
import { readInteger, readText } from '../codec/types.js';

/**
 * How an AMQP message asks for a later delivery (docs/timers.md), mapped onto RocketMQ's timer
 * properties, which the engine's send path reads:
 *
 * | AMQP                                                   | Property         |
 * |--------------------------------------------------------|------------------|
 * | message-annotation `x-opt-delivery-time` (epoch ms)    | TIMER_DELIVER_MS |
 * | message-annotation `x-opt-delivery-delay` (ms)         | TIMER_DELAY_MS   |
 * | application-property `TIMER_DELIVER_MS`                | TIMER_DELIVER_MS |
 * | application-property `TIMER_DELAY_SEC`                 | TIMER_DELAY_SEC  |
 * | application-property `TIMER_DELAY_MS`                  | TIMER_DELAY_MS   |
 *
 * The annotation names are ActiveMQ Artemis' and Azure Service Bus'; values may be any integer
 * type, a timestamp or a decimal string. Annotations win over application-properties.
 */
const ANNOTATIONS = new Map<string, string>([
  ['x-opt-delivery-time', PropertyKey.TIMER_DELIVER_MS],
  ['x-opt-delivery-delay', PropertyKey.TIMER_DELAY_MS],
]);
const APPLICATION_PROPERTIES = new Set<string>([PropertyKey.TIMER_DELIVER_MS, PropertyKey.TIMER_DELAY_SEC, PropertyKey.TIMER_DELAY_MS]);
const ANNOTATION_NAMES = new Set(ANNOTATIONS.keys());

/** Adds the timer properties an encoded message asks for to `out`. */
export function putTimerProperties(encoded: Buffer, layout: MessageLayout, out: Map<string, string>): void {
  if (layout.applicationProperties) {
    for (const [k, at] of namedMapValues(encoded, layout.applicationProperties, APPLICATION_PROPERTIES)) {
      const v = valueText(encoded, at, layout.applicationProperties[1]);
      if (v !== undefined) out.set(k, v);
    }
  }
  if (layout.messageAnnotations) {
    for (const [k, at] of namedMapValues(encoded, layout.messageAnnotations, ANNOTATION_NAMES)) {
      const v = valueText(encoded, at, layout.messageAnnotations[1]);
      if (v !== undefined) out.set(ANNOTATIONS.get(k)!, v);
    }
  }
}

/** An integer, timestamp or string value as decimal text (a string is checked by the send path). */
function valueText(buf: Buffer, at: number, end: number): string | undefined {
  const n = readInteger(buf, at, end);
  if (n !== undefined) return String(n);
  return readText(buf, at, end);
}
