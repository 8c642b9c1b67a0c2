// A preload for a server under the bench (APOGEE_BENCH_SERVER_NODE_FLAGS="--import <this file>"):
// at exit, appends {"patches", "user", "system"} (CPU µs of the whole process) as one JSON line to
// $APOGEE_PROBE_CPU_FILE. Used for the rhea patch figures of docs/amqp.md.
import { appendFileSync } from 'node:fs';

const file = process.env.APOGEE_PROBE_CPU_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.cpuUsage();
    appendFileSync(file, `${JSON.stringify({ patches: process.env.APOGEE_AMQP_RHEA_PATCHES ?? 'on', user: u.user, system: u.system })}\n`);
  });
}
