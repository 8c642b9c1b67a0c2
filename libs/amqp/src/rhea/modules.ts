/*
 * rhea's modules, loaded as they are (nothing is patched here): the container module, and the
 * internals (`rhea/lib/*`) that the patches of rhea/index.ts and the contract test reach into.
 * The only file of libs/amqp that requires rhea. Specs that need rhea's own, unpatched codec
 * import this and not rhea/index.ts.
 */
import { createRequire } from 'node:module';
import type * as RheaTypes from 'rhea';
import type { RheaFrames, RheaReaderModule } from './hot-frames.js';
import { INVENTORY } from './inventory.js';
import type { RheaMessageModule, RheaSessionProto } from './lean-incoming.js';
import type { RheaTypesModule } from './lean.js';

const require = createRequire(import.meta.url);

type Proto = Record<string, unknown>;
type Logger = ((...args: unknown[]) => void) & { enabled?: boolean };

/** rhea is CommonJS whose container instance is module.exports; load it as such. */
export const rhea = require('rhea') as typeof RheaTypes;

/** The rhea modules the patches and the contract test reach into. */
export interface RheaInternals {
  version: string;
  log: Record<string, Logger>;
  types: RheaTypesModule & RheaReaderModule;
  frames: RheaFrames & Record<string, unknown>;
  message: RheaMessageModule & Record<string, unknown>;
  Connection: { prototype: Proto };
  Session: { prototype: RheaSessionProto & Proto };
  /** The prototype rhea's Sender and Receiver share (link.js's `link` object). */
  Link: { prototype: Proto };
  Sender: { prototype: Proto };
  Receiver: { prototype: Proto };
  Transport: { prototype: Proto };
}

const links = require('rhea/lib/link.js') as { Sender: { prototype: Proto }; Receiver: { prototype: Proto } };

export const internals: RheaInternals = {
  version: (require('rhea/package.json') as { version: string }).version,
  log: require('rhea/lib/log.js') as RheaInternals['log'],
  types: require('rhea/lib/types.js') as RheaInternals['types'],
  frames: require('rhea/lib/frames.js') as RheaInternals['frames'],
  message: require('rhea/lib/message.js') as RheaInternals['message'],
  Connection: require('rhea/lib/connection.js') as RheaInternals['Connection'],
  Session: require('rhea/lib/session.js') as RheaInternals['Session'],
  Link: { prototype: Object.getPrototypeOf(links.Sender.prototype) as Proto },
  Sender: links.Sender,
  Receiver: links.Receiver,
  Transport: require('rhea/lib/transport.js') as RheaInternals['Transport'],
};

/**
 * rhea's own value of every `replaces` and `reads` entry of the inventory reachable from its
 * modules ("frames.read_frame", "Session.prototype.on_attach", ...), taken before any patch is
 * installed: what the contract test fingerprints. Instance entries ("session.links") and the
 * prototypes rhea does not export (Incoming, Outgoing) are not here; the test reads them from
 * live objects.
 */
export const pristine: ReadonlyMap<string, unknown> = (() => {
  const m = new Map<string, unknown>();
  const roots = internals as unknown as Record<string, Record<string, unknown>>;
  for (const entry of INVENTORY) {
    for (const target of [...entry.replaces, ...entry.reads]) {
      const [root, ...path] = target.split('.');
      if (!root || !(root in roots) || root === 'version') continue;
      // "log.*": a copy of the whole module object.
      if (path.length === 1 && path[0] === '*') m.set(target, { ...roots[root] });
      if (path.includes('*')) continue;
      let v: unknown = roots[root];
      for (const k of path) v = v === undefined || v === null ? undefined : (v as Record<string, unknown>)[k];
      m.set(target, v);
    }
  }
  return m;
})();
