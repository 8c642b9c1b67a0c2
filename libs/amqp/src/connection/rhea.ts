import { createRequire } from 'node:module';
import type * as RheaTypes from 'rhea';

/** rhea is CommonJS whose container instance is module.exports; load it as such. */
export const rhea = createRequire(import.meta.url)('rhea') as typeof RheaTypes;

/** rhea's message module, whose decode the session calls for every complete transfer. */
const messageModule = rhea.message as unknown as { decode: (b: Buffer) => unknown };

/** An incoming message as the gateway receives it: the encoded bytes, undecoded. */
export class RawMessage {
  constructor(readonly bytes: Buffer) {}
}

let rawDepth = 0;
let installed = false;

/**
 * Runs `fn` (which feeds bytes to a server connection) with rhea's message decoding replaced by
 * handing over the encoded bytes as a RawMessage. The gateway stores messages as received (every
 * section round-trips exactly) and never pays for a decode; rhea client connections in the same
 * process are unaffected because rhea decodes synchronously inside the input call.
 */
export function withRawMessages<T>(fn: () => T): T {
  if (!installed) {
    const original = messageModule.decode;
    messageModule.decode = function (this: unknown, b: Buffer) {
      return rawDepth > 0 ? new RawMessage(b) : original.call(this, b);
    };
    installed = true;
  }
  rawDepth++;
  try {
    return fn();
  } finally {
    rawDepth--;
  }
}
