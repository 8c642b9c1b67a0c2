import type { DataVersion } from './types.js';

/** DataVersion equality as RocketMQ defines it: stateVersion, timestamp and counter all equal. */
export function sameDataVersion(a: DataVersion, b: DataVersion): boolean {
  return a.stateVersion === b.stateVersion && a.timestamp === b.timestamp && a.counter === b.counter;
}

/** Order by stateVersion, then counter, then timestamp (RocketMQ DataVersion.compare). */
export function compareDataVersion(a: DataVersion, b: DataVersion): number {
  return Math.sign(a.stateVersion - b.stateVersion) || Math.sign(a.counter - b.counter) || Math.sign(a.timestamp - b.timestamp);
}
