/**
 * Apogee all-in-one server. Until the broker lands (issue "NameServer, broker and the native
 * remoting endpoint") it opens the embedded store on the data directory, reports it, and waits;
 * the command line below is the stable contract later endpoints fill in.
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
  }
} catch (err) {
  process.stderr.write(`apogee: ${formatError(err)}\n`);
  process.exit(1);
}
