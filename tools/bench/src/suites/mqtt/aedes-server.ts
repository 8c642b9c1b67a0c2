/**
 * The "plain aedes" peer of the mqtt suite, run in its own process: aedes 1.2 with its default
 * options and in-memory persistence on `net.createServer(aedes.handle)`, 127.0.0.1, the port given
 * as argv[2] (0 = any free port). Prints `aedes: ready 127.0.0.1:<port>`; stops on SIGTERM.
 */
import net from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2] ?? '0');
const aedes = await Aedes.createBroker();
const server = net.createServer(aedes.handle);

await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', () => resolve());
});
const bound = (server.address() as net.AddressInfo).port;
process.stdout.write(`aedes: ready 127.0.0.1:${bound}\n`);

process.once('SIGTERM', () => {
  server.close();
  aedes.close(() => process.exit(0));
  // Open client sockets keep server.close() pending; the broker is done either way.
  setTimeout(() => process.exit(0), 2000).unref();
});
// Never outlive the suite for long even if its SIGTERM is lost.
setTimeout(() => process.exit(0), 30 * 60_000).unref();
