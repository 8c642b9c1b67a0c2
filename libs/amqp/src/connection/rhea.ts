import { createRequire } from 'node:module';
import type * as RheaTypes from 'rhea';
import './rhea-lean.js';
import { hotFramesOff, hotFramesOn } from './rhea-hot-frames.js';

const require = createRequire(import.meta.url);

/** rhea is CommonJS whose container instance is module.exports; load it as such. */
export const rhea = require('rhea') as typeof RheaTypes;

/**
 * rhea logs every frame through `debug` loggers; a disabled one still builds an argument array per
 * call (~3 % of what the gateway allocated per message). Loggers not enabled when this module loads
 * (`DEBUG=rhea:*` enables them) become no-ops; rhea reads them from this object at each call.
 */
const rheaLog = require('rhea/lib/log.js') as Record<string, ((...args: unknown[]) => void) & { enabled?: boolean }>;
const silent = (): void => {};
for (const name of Object.keys(rheaLog)) if (!rheaLog[name]!.enabled) rheaLog[name] = silent;

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
 * handing over the encoded bytes as a RawMessage, and with the hot frame codec on (see
 * rhea-hot-frames.ts). The gateway stores messages as received (every section round-trips exactly)
 * and never pays for a decode; rhea client connections in the same process are unaffected because
 * rhea decodes synchronously inside the input call.
 */
export function withServerCodec<T>(fn: () => T): T {
  if (!installed) {
    const original = messageModule.decode;
    messageModule.decode = function (this: unknown, b: Buffer) {
      return rawDepth > 0 ? new RawMessage(b) : original.call(this, b);
    };
    installed = true;
  }
  rawDepth++;
  hotFramesOn();
  try {
    return fn();
  } finally {
    hotFramesOff();
    rawDepth--;
  }
}
