/**
 * Apogee all-in-one server: parses the command line and runs the server until SIGTERM or SIGINT
 * (see run.ts). `npm start` runs this file compiled (dist/server/main.mjs, built by tools/build.mjs).
 */
import { formatError } from '@apogee/message';
import { parseServerArgs, usage } from './args.js';
import { runServer } from './run.js';

try {
  const args = parseServerArgs(process.argv.slice(2), process.env);
  if (args.help) {
    process.stdout.write(usage());
  } else {
    await runServer(args);
    // Everything is closed and flushed. Anything still holding the event loop open is a leak; it must
    // not keep a stopped server's process alive under a supervisor.
    setTimeout(() => {
      process.stderr.write('apogee: handles still open 5 s after a clean stop; exiting anyway\n');
      process.exit(0);
    }, 5000).unref();
  }
} catch (err) {
  process.stderr.write(`apogee: ${formatError(err)}\n`);
  process.exit(1);
}
