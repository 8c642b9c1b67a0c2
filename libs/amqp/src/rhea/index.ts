/*
 * rhea at arm's length: this folder is the one module of libs/amqp that loads rhea and reaches
 * into its internals (`rhea/lib/*`, loaded by modules.ts, which patches nothing); this file
 * installs the patches. Everything else imports rhea through here: the container module, the types of
 * the server-side objects (shapes.ts), RawMessage, and `serveConnection`, which installs the
 * per-connection patches. What is patched, why and how is the inventory (inventory.ts, rendered in
 * docs/amqp.md); rhea/contract.spec.ts fails when rhea's version or any function or field listed
 * there changes.
 *
 * APOGEE_AMQP_RHEA_PATCHES (read once, when this module loads) switches the optional, performance
 * only, patches: unset or "on" = all, "off" = none, or a comma-separated list of those to keep
 * (log-silence, lean-types, lean-dispatch, hot-frames, lean-incoming). The process-wide ones
 * (log-silence, lean-types, lean-dispatch) take effect here; hot-frames and lean-incoming are
 * per connection (`serveConnection(conn, patches)` may choose otherwise for one connection).
 */
import { installHotFrames } from './hot-frames.js';
import { type OptionalPatch, parsePatchSetting } from './inventory.js';
import { leanIncomingOn } from './lean-incoming.js';
import { installLeanDispatch, installLeanTypes } from './lean.js';
import { keyLinksByRole } from './link-roles.js';
import { internals } from './modules.js';

export type * from './shapes.js';
export { type RheaInternals, internals, pristine, rhea } from './modules.js';
export { INVENTORY, OPTIONAL_PATCHES, type OptionalPatch, type PatchEntry, type PatchId, inventoryMarkdown, parsePatchSetting } from './inventory.js';

/** The optional patches this process was started with (APOGEE_AMQP_RHEA_PATCHES). */
export const processPatches: ReadonlySet<OptionalPatch> = parsePatchSetting(process.env['APOGEE_AMQP_RHEA_PATCHES']);

// Patch log-silence: rhea logs every frame through `debug` loggers; a disabled one still builds an
// argument array per call (1.1 KB of the 7.2 KB the server allocates per message, see the
// inventory). Loggers not enabled
// now (`DEBUG=rhea:*` enables them) become no-ops; rhea reads them from this object at each call.
if (processPatches.has('log-silence')) {
  const silent = (): void => {};
  for (const name of Object.keys(internals.log)) if (!internals.log[name]!.enabled) internals.log[name] = silent;
}
if (processPatches.has('lean-types')) installLeanTypes(internals.types);
if (processPatches.has('lean-dispatch')) installLeanDispatch(internals.Link.prototype, internals.Session.prototype, internals.Connection.prototype);

/** An incoming message as the gateway receives it: the encoded bytes, undecoded. */
export class RawMessage {
  constructor(readonly bytes: Buffer) {}
}

/*
 * The server scope: while a server connection reads its input or runs its deferred processing,
 * these count how many enclosing scopes have each scoped patch on (scopes do not interleave:
 * rhea does all of it synchronously inside those two calls).
 */
let rawDepth = 0;
let hotDepth = 0;
let incomingDepth = 0;
let rawInstalled = false;

/** Patch raw-messages: inside a server scope, rhea's message decode hands over the encoded bytes. */
function installRawMessages(): void {
  if (rawInstalled) return;
  rawInstalled = true;
  const original = internals.message.decode;
  internals.message.decode = function (this: unknown, b: Buffer) {
    return rawDepth > 0 ? new RawMessage(b) : original.call(this, b);
  };
}

/** Enters a server scope with the given scoped patches (left with `leave`, same arguments). */
function enter(hot: boolean, incoming: boolean): void {
  rawDepth++;
  if (hot) hotDepth++;
  if (incoming) incomingDepth++;
}

function leave(hot: boolean, incoming: boolean): void {
  rawDepth--;
  if (hot) hotDepth--;
  if (incoming) incomingDepth--;
}

/**
 * Makes `conn` (a rhea server connection, before `conn.accept(socket)`) a server connection of
 * the gateway: its sessions key links by name and role (link-roles), and what it reads and
 * processes runs in a server scope — messages handed over undecoded (raw-messages) and, when
 * `patches` has them, the hot frame codec (hot-frames) and the lean incoming deliveries
 * (lean-incoming). rhea client connections in the same process are unaffected.
 */
export function serveConnection(conn: object, patches: ReadonlySet<OptionalPatch> = processPatches): void {
  keyLinksByRole(conn);
  installRawMessages();
  const hot = patches.has('hot-frames');
  const incoming = patches.has('lean-incoming');
  if (hot) installHotFrames(internals.frames, internals.types, () => hotDepth > 0);
  if (incoming) leanIncomingOn(internals.message, internals.Session.prototype, () => incomingDepth > 0);
  // Instance methods: rhea binds `input` to the socket in accept and schedules `_process` itself.
  const c = conn as { input: (b: Buffer) => void; _process: () => void };
  const input = c.input;
  const processFrames = c._process;
  c.input = function (this: unknown, b: Buffer) {
    enter(hot, incoming);
    try {
      input.call(this, b);
    } finally {
      leave(hot, incoming);
    }
  };
  c._process = function (this: unknown) {
    enter(hot, incoming);
    try {
      processFrames.call(this);
    } finally {
      leave(hot, incoming);
    }
  };
}
