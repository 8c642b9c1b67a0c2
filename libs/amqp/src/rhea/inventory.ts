/*
 * Every place Apogee reaches into rhea 3.0.5 beyond its published API, as one table. The contract
 * test (rhea/contract.spec.ts) checks each `replaces` and `reads` entry against the installed rhea
 * and names the patch to re-check when one changed; docs/amqp.md carries this table rendered by
 * `inventoryMarkdown()` (a test keeps the two equal). No I/O.
 */

/** The optional patches: performance only, switchable with APOGEE_AMQP_RHEA_PATCHES. */
export const OPTIONAL_PATCHES = ['log-silence', 'lean-types', 'lean-dispatch', 'hot-frames', 'lean-incoming'] as const;
export type OptionalPatch = (typeof OPTIONAL_PATCHES)[number];

/** The patches the gateway's behaviour depends on: always installed. */
export const REQUIRED_PATCHES = ['raw-messages', 'link-roles', 'server-scope', 'shapes'] as const;
export type RequiredPatch = (typeof REQUIRED_PATCHES)[number];

export type PatchId = OptionalPatch | RequiredPatch;

export interface PatchEntry {
  id: PatchId;
  /** Where it lives (under libs/amqp/src/rhea/). */
  file: string;
  /** rhea functions or fields it replaces (module-level, prototype, or on one instance). */
  replaces: readonly string[];
  /** rhea internals it reads or calls without replacing them (private fields, internal functions). */
  reads: readonly string[];
  why: string;
  /**
   * What it was measured to save: allocation per message with this one patch off and the others
   * on, against all on (7.2 KB per message; 13.9 KB with all off), latency-5k; see docs/amqp.md.
   */
  gain: string;
  scope: 'process-wide' | 'per connection' | 'process-wide, effective per connection';
  install: string;
  /** Whether APOGEE_AMQP_RHEA_PATCHES can turn it off (false: the gateway's behaviour needs it). */
  optional: boolean;
}

export const INVENTORY: readonly PatchEntry[] = [
  {
    id: 'log-silence',
    file: 'index.ts',
    replaces: ['log.*'],
    reads: ['log.*.enabled'],
    why: 'a disabled debug logger still builds an argument array per call, several per frame',
    gain: 'without it +1.1 KB allocated per message (+15 %); CPU: below the noise',
    scope: 'process-wide',
    install: 'when rhea/index.ts loads: every logger not enabled (DEBUG=rhea:*) becomes a no-op; never removed',
    optional: true,
  },
  {
    id: 'lean-types',
    file: 'lean.ts',
    replaces: ['types.is_ulong', 'types.is_string', 'types.is_symbol', 'types.is_list', 'types.is_map'],
    reads: [
      'types.Ulong',
      'types.Ulong0',
      'types.SmallUlong',
      'types.Str8',
      'types.Str32',
      'types.Sym8',
      'types.Sym32',
      'types.List0',
      'types.List8',
      'types.List32',
      'types.Map8',
      'types.Map32',
    ],
    why: 'each call built an array of type descriptors; every performative field read goes through them',
    gain: 'without it +0.3 KB allocated per message (+4 %); CPU: below the noise',
    scope: 'process-wide',
    install: 'when rhea/index.ts loads (module functions replaced); never removed',
    optional: true,
  },
  {
    id: 'lean-dispatch',
    file: 'lean.ts',
    replaces: ['Link.prototype.dispatch', 'Session.prototype.dispatch', 'Connection.prototype.dispatch'],
    reads: ['link.observers', 'link.session', 'session.observers', 'session.connection', 'connection.container'],
    why: 'rhea copies the listener array and re-spreads arguments for every event, several per message',
    gain: 'without it +0.6 KB allocated per message (+9 %); CPU: below the noise',
    scope: 'process-wide',
    install: 'when rhea/index.ts loads (prototype methods replaced, rhea client connections included); never removed',
    optional: true,
  },
  {
    id: 'hot-frames',
    file: 'hot-frames.ts',
    replaces: ['frames.read_frame', 'frames.write_frame', 'frames.transfer', 'frames.disposition', 'frames.flow'],
    reads: ['Transport.prototype.read', 'Outgoing.prototype.process', 'Incoming.prototype.process', 'Session.prototype._write_flow', 'types.Reader'],
    why: 'rhea’s generic codec builds a typed wrapper per field of every frame; transfer, disposition and flow are read and written by codec/hot-frames.ts instead',
    gain: 'without it +2.5 KB allocated per message (+34 %); CPU −16 % in one pair (noisy)',
    scope: 'process-wide, effective per connection',
    install:
      'module functions replaced at the first server connection that uses it; they take the hot path only inside that connection’s server scope (else call rhea’s); never removed',
    optional: true,
  },
  {
    id: 'lean-incoming',
    file: 'lean-incoming.ts',
    replaces: ['Session.prototype.on_transfer'],
    reads: [
      'Incoming.prototype.on_transfer',
      'Incoming.prototype.update',
      'session.incoming',
      'session.incoming.next_transfer_id',
      'session.incoming.next_delivery_id',
      'session.incoming.deliveries.push',
      'Session.prototype._get_link',
      'link._incomplete',
      'link.credit',
      'link.delivery_count',
      'link.local.attach.rcv_settle_mode',
      'Link.prototype.is_remote_open',
      'Link.prototype._context',
      'message.accepted',
      'message.released',
      'message.modified',
      'message.rejected',
    ],
    why: 'rhea builds every incoming delivery as a literal with six fresh closures; this is the same procedure with a class',
    gain: 'without it +1.1 KB allocated per message (+16 %); CPU −13 % in one pair (noisy)',
    scope: 'process-wide, effective per connection',
    install: 'prototype method replaced at the first server connection that uses it; rhea’s own runs outside that connection’s server scope; never removed',
    optional: true,
  },
  {
    id: 'raw-messages',
    file: 'index.ts',
    replaces: ['message.decode'],
    reads: ['Incoming.prototype.on_transfer'],
    why: 'the gateway stores each message as the bytes received (every section round-trips exactly) and never decodes it',
    gain: 'behaviour (and no message decode per transfer)',
    scope: 'process-wide, effective per connection',
    install: 'module function replaced at the first server connection; inside a server scope it returns a RawMessage, else rhea’s decode; never removed',
    optional: false,
  },
  {
    id: 'link-roles',
    file: 'link-roles.ts',
    replaces: ['connection.create_session', 'session.on_attach', 'session.remove_link'],
    reads: ['Connection.prototype.create_session', 'Session.prototype.on_attach', 'Session.prototype.remove_link', 'session.links'],
    why: 'AMQP names a link by name and role (spec 2.6.1); rhea keys a session’s links by name only, so a peer’s sender and receiver of the same name collide',
    gain: 'behaviour (Qpid Proton’s default link names)',
    scope: 'per connection',
    install: 'serveConnection(conn): instance methods of that connection and of each session it creates; gone with them',
    optional: false,
  },
  {
    id: 'server-scope',
    file: 'index.ts',
    replaces: ['connection.input', 'connection._process'],
    reads: ['Connection.prototype.input', 'Connection.prototype._process', 'Connection.prototype.init'],
    why: 'marks what a server connection reads and writes, so the patches above apply to it and not to rhea client connections in the same process',
    gain: 'mechanism of hot-frames, lean-incoming and raw-messages',
    scope: 'per connection',
    install: 'serveConnection(conn) before conn.accept (rhea binds input to the socket there); gone with the connection',
    optional: false,
  },
  {
    id: 'shapes',
    file: 'shapes.ts',
    replaces: [],
    reads: [
      'Connection.prototype._register',
      'Sender.prototype.set_drained',
      'Sender.prototype._get_drain',
      'sender._draining',
      'link.credit',
      'link.delivery_count',
      'Outgoing.prototype.available',
      'session.outgoing.next_pending_delivery',
      'link.remote.attach',
      'link.local.handle',
    ],
    why: 'state the gateway’s links read that rhea’s typings leave out (drain, output scheduling, write position)',
    gain: 'behaviour',
    scope: 'per connection',
    install: 'nothing installed: read by link/outgoing.ts and gateway.ts',
    optional: false,
  },
];

const cell = (s: string): string => s.replace(/\|/g, '\\|');
const list = (xs: readonly string[]): string => (xs.length === 0 ? '—' : xs.map((x) => `\`${x}\``).join(', '));

/** The inventory as the markdown table in docs/amqp.md. */
export function inventoryMarkdown(): string {
  const rows = INVENTORY.map(
    (p) =>
      `| \`${p.id}\`${p.optional ? '' : ' (required)'} | ${list(p.replaces)} | ${list(p.reads)} | ${cell(p.why)} | ${cell(p.gain)} | ${p.scope} | ${cell(p.install)} |`,
  );
  return ['| Patch | Replaces | Reads | Why | Measured gain | Scope | Installed / removed |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}

/**
 * The optional patches APOGEE_AMQP_RHEA_PATCHES asks for: unset or "on" = all, "off" = none, or a
 * comma-separated list of the ones to keep. Anything else throws (a typo must not pass silently).
 */
export function parsePatchSetting(value: string | undefined): ReadonlySet<OptionalPatch> {
  const v = (value ?? '').trim();
  if (v === '' || v === 'on') return new Set(OPTIONAL_PATCHES);
  if (v === 'off') return new Set();
  const chosen = new Set<OptionalPatch>();
  for (const part of v.split(',')) {
    const id = part.trim();
    if (!(OPTIONAL_PATCHES as readonly string[]).includes(id))
      throw new Error(
        `APOGEE_AMQP_RHEA_PATCHES: unknown patch ${JSON.stringify(id)}; expected "on", "off" or a comma-separated list of ${OPTIONAL_PATCHES.join(', ')}`,
      );
    chosen.add(id as OptionalPatch);
  }
  return chosen;
}
