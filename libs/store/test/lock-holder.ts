/** Test fixture: takes the lock of the directory in argv[2], prints "locked <pid>", and holds it until killed. */
import { DirectoryLock } from '../src/lock.js';

const dir = process.argv[2]!;
try {
  await DirectoryLock.acquire(dir, 0);
  process.stdout.write(`locked ${process.pid}\n`);
  setInterval(() => {}, 1 << 30);
} catch (err) {
  process.stdout.write(`refused ${(err as Error).message}\n`);
  process.exit(3);
}
