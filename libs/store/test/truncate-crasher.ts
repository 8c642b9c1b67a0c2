/**
 * Child process of src/truncate.spec.ts:
 *   APOGEE_DET_T0=<ms> node --import tsx libs/store/test/truncate-crasher.ts <dataDir> <step>
 *
 * Writes the deterministic sequence (test-support.ts: messages 0–299 in epoch 1, 300–399 in
 * epoch 2), prints `{"k":…,"offset":…}` (the first message at least 9000 bytes into the log, where
 * it truncates to), then truncates there and SIGKILLs itself right after the truncation's step
 * `<step>` (truncation.ts) — a crash at that point.
 */
import { fillDet, openDetStore } from '../src/test-support.js';
import type { TruncationStep } from '../src/truncation.js';

const [dir, step] = process.argv.slice(2) as [string, TruncationStep];
const { s, clock } = await openDetStore(dir);
await s.beginEpoch(1);
const puts = await fillDet(s, clock, 0, 300);
await s.beginEpoch(2);
await fillDet(s, clock, 300, 400);
const k = puts.findIndex((p) => p.commitLogOffset >= 9000);
process.stdout.write(`${JSON.stringify({ k, offset: puts[k]!.commitLogOffset })}\n`);
s.setTruncationHook((at) => {
  if (at === step) process.kill(process.pid, 'SIGKILL');
});
await s.truncateReplicated(puts[k]!.commitLogOffset);
await s.close();
process.stdout.write('{"done":true}\n');
