import { PropertyKey, TIMER_TOPIC } from '@apogee/message';
import { BrokerError } from '../errors.js';

/** The settings the conversion of a timer message reads (a slice of BrokerConfig). */
export interface TimerRoutingConfig {
  timerWheelEnable: boolean;
  timerMaxDelaySec: number;
}

/** The timer properties a sender may set, in RocketMQ's order of precedence (HookUtils.transformTimerMessage). */
const TIMER_INPUTS = [PropertyKey.TIMER_DELAY_SEC, PropertyKey.TIMER_DELAY_MS, PropertyKey.TIMER_DELIVER_MS] as const;

/** A decimal integer as Java's Long.parseLong takes it (no fraction, no exponent, no blanks). */
const INTEGER = /^[+-]?\d{1,16}$/;

/** True if any timer property is set: the send path looks no further otherwise. */
export function hasTimerProperty(props: ReadonlyMap<string, string>): boolean {
  return props.has(PropertyKey.TIMER_DELAY_SEC) || props.has(PropertyKey.TIMER_DELAY_MS) || props.has(PropertyKey.TIMER_DELIVER_MS);
}

/** Removes every sender-set timer property (a DELAY level wins over them, as in RocketMQ). */
export function dropTimerProperties(props: Map<string, string>): void {
  for (const k of TIMER_INPUTS) props.delete(k);
}

/**
 * The absolute delivery time (epoch ms) a message's timer properties ask for: TIMER_DELAY_SEC,
 * else TIMER_DELAY_MS (both relative to `now`), else TIMER_DELIVER_MS. Throws MESSAGE_ILLEGAL for
 * an unparsable value or a delay beyond timerMaxDelaySec, SYSTEM_ERROR when timers are off.
 * Null without timer properties.
 */
export function timerDeliverMs(props: ReadonlyMap<string, string>, now: number, cfg: TimerRoutingConfig): number | null {
  let key: (typeof TIMER_INPUTS)[number] | undefined;
  for (const k of TIMER_INPUTS) {
    if (props.has(k)) {
      key = k;
      break;
    }
  }
  if (key === undefined) return null;
  if (!cfg.timerWheelEnable) {
    throw new BrokerError('SYSTEM_ERROR', 'accurate timer message is not enabled, timerWheelEnable is false (broker config); send without TIMER_* properties');
  }
  const text = props.get(key)!;
  if (!INTEGER.test(text)) throw new BrokerError('MESSAGE_ILLEGAL', `timer message illegal: ${key} ${JSON.stringify(text)} is not an integer`);
  const n = Number(text);
  const deliverMs = key === PropertyKey.TIMER_DELAY_SEC ? now + n * 1000 : key === PropertyKey.TIMER_DELAY_MS ? now + n : n;
  const maxMs = cfg.timerMaxDelaySec * 1000;
  if (deliverMs - now > maxMs) {
    throw new BrokerError(
      'MESSAGE_ILLEGAL',
      `timer message illegal, the delay time should not be bigger than the max delay ${maxMs}ms (timerMaxDelaySec ${cfg.timerMaxDelaySec}); ${key} asks for ${deliverMs - now}ms`,
    );
  }
  return deliverMs;
}

/**
 * Redirects a timer message due after `now` into the timer topic, queue 0: the real topic and
 * queue go into REAL_TOPIC / REAL_QID and the due time into TIMER_OUT_MS. A message already due
 * stays where it is (delivered at once). Returns whether it was redirected. Unlike RocketMQ the
 * due time is not rounded down to the precision: Apogee never fires early.
 */
export function applyTimer(target: { topic: string; queueId: number }, props: Map<string, string>, now: number, cfg: TimerRoutingConfig): boolean {
  const deliverMs = timerDeliverMs(props, now, cfg);
  if (deliverMs === null || deliverMs <= now) return false;
  props.set(PropertyKey.TIMER_OUT_MS, String(deliverMs));
  props.set(PropertyKey.REAL_TOPIC, target.topic);
  props.set(PropertyKey.REAL_QUEUE_ID, String(target.queueId));
  target.topic = TIMER_TOPIC;
  target.queueId = 0;
  return true;
}
