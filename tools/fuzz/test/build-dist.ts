/** vitest globalSetup: the production build the fuzzed server runs (never a stale dist/). */
import { buildServer } from '../src/server.js';

export default function setup(): void {
  buildServer();
}
