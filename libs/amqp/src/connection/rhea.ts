/** Kept for link/incoming.ts and test/harness.ts until they import from ../rhea/index.js (everything rhea lives there). */
export { RawMessage, rhea } from '../rhea/index.js';
