import { PropertyKey, findProperty, readRecordProperties } from '@apogee/message';

/** What the timer service reads from a record in the timer topic, without decoding the rest. */
export interface TimerRecordFields {
  /** TIMER_OUT_MS; the store time when it is missing or unreadable (fire at once). */
  dueMs: number;
  /** TIMER_ORIGIN: on a rolled copy, the commit-log offset of the record it replaces. */
  origin: number | undefined;
}

/** Reads TIMER_OUT_MS and TIMER_ORIGIN of a timer-topic record. */
export function timerRecordFields(record: Buffer, storeTimestamp: number): TimerRecordFields {
  const props = readRecordProperties(record, 0);
  const due = Number(findProperty(props, PropertyKey.TIMER_OUT_MS));
  const originText = findProperty(props, PropertyKey.TIMER_ORIGIN);
  const origin = originText === undefined ? undefined : Number(originText);
  return {
    dueMs: Number.isSafeInteger(due) && due >= 0 ? due : storeTimestamp,
    origin: origin !== undefined && Number.isSafeInteger(origin) && origin >= 0 ? origin : undefined,
  };
}
