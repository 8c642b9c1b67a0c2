/** Entry point: `npm run cli -- <command> [options]` (see usage.ts). */
import { runCli } from './cli.js';

const abort = new AbortController();
let interrupted = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    // The first signal lets a running command stop and commit; a second one ends the process.
    if (++interrupted > 1) process.exit(130);
    abort.abort();
  });
}

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  signal: abort.signal,
  sink: { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) },
});
process.exitCode = code;
// Every client is shut down by now; should a socket linger anyway, do not hang the shell.
setTimeout(() => process.exit(code), 2000).unref();
