import { intField, parseJsonText, requireRecord } from './json-fields.js';
import type { DataVersion } from './types.js';

/** DataVersion as fastjson writes it (fields in name order): `{"counter":…,"stateVersion":…,"timestamp":…}`. */
export function dataVersionToJson(dv: DataVersion): string {
  return `{"counter":${dv.counter},"stateVersion":${dv.stateVersion},"timestamp":${dv.timestamp}}`;
}

/** Parses a DataVersion body (QUERY_DATA_VERSION 322 request). Missing fields read as 0. */
export function parseDataVersion(body: Uint8Array): DataVersion {
  const what = 'DataVersion body';
  return parseDataVersionValue(parseJsonText(Buffer.from(body).toString('utf8'), what), what);
}

/** A decoded JSON value as a DataVersion; throws MalformedNamesrvBodyError on wrong types. */
export function parseDataVersionValue(value: unknown, what: string): DataVersion {
  const obj = requireRecord(value, what);
  return {
    stateVersion: intField(obj, 'stateVersion', 0, what),
    timestamp: intField(obj, 'timestamp', 0, what),
    counter: intField(obj, 'counter', 0, what),
  };
}
