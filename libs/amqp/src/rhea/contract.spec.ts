/*
 * The contract with rhea: fails when rhea's version changes, when any rhea function a patch
 * replaces or relies on is not the code the patch was written against (sha256 of its source), or
 * when a private field the patches read is missing or of another type on real rhea objects (a
 * server connection served by serveConnection, talking to a rhea client over 127.0.0.1). Each
 * failure names the patch of the inventory (rhea/inventory.ts) to re-check.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVENTORY, OPTIONAL_PATCHES, type PatchEntry, RawMessage, inventoryMarkdown, parsePatchSetting, pristine, rhea, serveConnection } from './index.js';
import { internals } from './modules.js';

const RHEA_VERSION = '3.0.5';

/** sha256 of `String(fn)` of rhea 3.0.5's own functions, as the patches were written against them. */
const FINGERPRINTS: Record<string, string> = {
  'types.is_ulong': '152eb3ef47eb2671bca72f6e38e699e0a86d69f79f8282ecfeb645fd893caae2',
  'types.is_string': '2bf515e7c6af4af40e52879f6a52073950fd68b7ba2f5c2273063eb7339e4bf2',
  'types.is_symbol': 'f95abb8373c41054d1676c14b1baf90b91350928d8b4ad55469c8f87eb3a0d1e',
  'types.is_list': 'c3a973c8fd1749850ea915165d669b1b76c61c2ef9460c15997cef7de9619db0',
  'types.is_map': 'f74d55ed527fc66723f99863a24ab2e086323220451d16542cd39bf327aa6969',
  'types.Reader': '221b794241787ba68dd5a973138416034f2aa20807d17b42d4ee5b20490b024a',
  'Link.prototype.dispatch': '3cadf0ee5c363792b9a5adf9ff807adc57835c962e01a7784912d600bd1e4aad',
  'Session.prototype.dispatch': '87d756341a512410bca06401b6fa392664c0779ef2bbfc13fe27ac802c2f329d',
  'Connection.prototype.dispatch': '634868f2f1ec0516ccc444965172fc383cf41ca4240772f73699686d40143db7',
  'frames.read_frame': '5aed2ade576aa5c1f5bfa79a190ebd00cf1a2981cb711d006dcb8b39914a1465',
  'frames.write_frame': 'adbebbf3c6b19678efd851539324d7e963c74f2129985c181e7139e325b1cd27',
  'frames.transfer': '541aa6f83289d6bd7c8587ea73d3d1429bed14f946476f9e120aa1cabdffed1c',
  'frames.disposition': '541aa6f83289d6bd7c8587ea73d3d1429bed14f946476f9e120aa1cabdffed1c',
  'frames.flow': '541aa6f83289d6bd7c8587ea73d3d1429bed14f946476f9e120aa1cabdffed1c',
  'Transport.prototype.read': 'a661fb1868e08943b081955cfab62b3729929acbec3f57e88084403b90970e43',
  'Outgoing.prototype.process': '1bdf8b4b5f7b9f834e575b1ffb16de8cd54f7a30df3b78c20e7fb44e8901ac0e',
  'Incoming.prototype.process': 'b4d070c2bca95387ae4b171455062c5e67b35c7f5eda97c70ee53c9722421978',
  'Session.prototype._write_flow': '4302eed01bd2b39c7e81db9ce0177d70efca866a23981683836f6d01dd6ecb90',
  'Session.prototype.on_transfer': '3d6ebe3dfdd17751e65657e51eb0bd372b89c427ac67c92f2ef761213e25b736',
  'Incoming.prototype.on_transfer': '27be78791479c5bb314c29183449e90ad70179a2dc25368c0679169783f2002a',
  'Incoming.prototype.update': 'ec796f124333886eeaf36e0ee60ee4135fb4c767a0b10b3018627f259a107c62',
  'Session.prototype._get_link': 'afd07a63b3f1848a3dfe3fa85345a38858e77c993377a168c070e62197d3fe7f',
  'Link.prototype.is_remote_open': '58b8ed85e61fc9546ca500338d72db434153977384f96ccafb09acca8217b03e',
  'Link.prototype._context': '279ffe086946a034a845ad3291ee008a3a652affb705e1ac81e9c1d82480f16f',
  'message.accepted': '541aa6f83289d6bd7c8587ea73d3d1429bed14f946476f9e120aa1cabdffed1c',
  'message.released': '541aa6f83289d6bd7c8587ea73d3d1429bed14f946476f9e120aa1cabdffed1c',
  'message.modified': '541aa6f83289d6bd7c8587ea73d3d1429bed14f946476f9e120aa1cabdffed1c',
  'message.rejected': '541aa6f83289d6bd7c8587ea73d3d1429bed14f946476f9e120aa1cabdffed1c',
  'message.decode': 'cc318fd63b1006d36d46324d8e4b53bc92e344bda7edd77de6045d4ecfb4a091',
  'Connection.prototype.create_session': 'e18c3d65b3c95d0f2c257afa1f5b47c39c5c485b37e93cdc335968edfc0cb6ae',
  'Session.prototype.on_attach': 'a10ae8b8f1cbf95ea7361d1f09091025741792acd81d27a195c3cf3233d6d95e',
  'Session.prototype.remove_link': 'faf1c74d416a5955e600fb193c0080fc2fd70bdd0fc12e9cbae54cd10a418fab',
  'Connection.prototype.input': 'caeea0e2e5425f154ddfacbd40716d7a3ba9a602b3bf95f8f81fef0ffd6dad83',
  'Connection.prototype._process': '699b4e56ed51a3f33f8cd776ab46fd8b5e402d90b30ba84c80378533ff66ce91',
  'Connection.prototype.init': 'eaf4306f45e20377835329bd324616628429977a82c91e6e9f55efc5697ab9d7',
  'Connection.prototype._register': '2d46c76564826ac804a1f4c5bd761a8a9bde760c01cd0c5d5977f57c368d0a0e',
  'Sender.prototype.set_drained': '0b34c0ced67f4bdc64f74df17cbc006bc2b5ab2bbc7191fa386b0dacfd8e3c0b',
  'Sender.prototype._get_drain': 'aee5d41c44d317c3cfa48474336394995b925f624ff628f5bff2fa5ee8fa80b1',
  'Outgoing.prototype.available': '35bc35be8352cfe80023024f7b29ff2a5d47f536ef0ec867da936eaedff02780',
};

/**
 * The performatives and outcomes whose fields the hot codec and lean-incoming read and write by
 * position: rhea 3.0.5's descriptor code and field order (the functions that build them are one
 * generic closure each, so their source alone says nothing).
 */
const COMPOSITES: Record<string, string> = {
  'frames.transfer':
    '{"descriptor":"20","fields":["constructor","dispatch","handle","delivery_id","delivery_tag","message_format","settled","more","rcv_settle_mode","state","resume","aborted","batchable","toJSON","described"]}',
  'frames.disposition': '{"descriptor":"21","fields":["constructor","dispatch","role","first","last","settled","state","batchable","toJSON","described"]}',
  'frames.flow':
    '{"descriptor":"19","fields":["constructor","dispatch","next_incoming_id","incoming_window","next_outgoing_id","outgoing_window","handle","delivery_count","link_credit","available","drain","echo","properties","toJSON","described"]}',
  'message.accepted': '{"descriptor":"36","fields":["constructor","dispatch","toJSON","described"]}',
  'message.released': '{"descriptor":"38","fields":["constructor","dispatch","toJSON","described"]}',
  'message.modified':
    '{"descriptor":"39","fields":["constructor","dispatch","delivery_failed","undeliverable_here","message_annotations","toJSON","described"]}',
  'message.rejected': '{"descriptor":"37","fields":["constructor","dispatch","error","toJSON","described"]}',
};

/** Type codes of the descriptors lean-types compares against. */
const TYPECODES: Record<string, number> = {
  'types.Ulong': 0x80,
  'types.Ulong0': 0x44,
  'types.SmallUlong': 0x53,
  'types.Str8': 0xa1,
  'types.Str32': 0xb1,
  'types.Sym8': 0xa3,
  'types.Sym32': 0xb3,
  'types.List0': 0x45,
  'types.List8': 0xc0,
  'types.List32': 0xd0,
  'types.Map8': 0xc1,
  'types.Map32': 0xd1,
};

/** rhea 3.0.5's debug loggers (lib/log.js), which log-silence replaces. */
const LOGGERS = ['config', 'frames', 'raw', 'reconnect', 'events', 'message', 'flow', 'io'];

type Kind = 'function' | 'number' | 'boolean' | 'object' | 'undefined' | 'EventEmitter';

/** Private fields on live objects: the types rhea 3.0.5 gives them at the point the patches read them. */
const FIELDS: Record<string, Kind[]> = {
  'link.observers': ['EventEmitter'],
  'link.session': ['EventEmitter'],
  'link._incomplete': ['undefined', 'object'],
  'link.credit': ['number'],
  'link.delivery_count': ['number'],
  'link.local.attach.rcv_settle_mode': ['number', 'undefined'],
  'link.remote.attach': ['object'],
  'link.local.handle': ['number'],
  'session.observers': ['EventEmitter'],
  'session.connection': ['EventEmitter'],
  'session.incoming': ['object'],
  'session.incoming.next_transfer_id': ['number'],
  'session.incoming.next_delivery_id': ['number'],
  'session.incoming.deliveries.push': ['function'],
  'session.links': ['object'],
  'session.outgoing.next_pending_delivery': ['number'],
  'session.on_attach': ['function'],
  'session.remove_link': ['function'],
  'sender._draining': ['boolean', 'undefined'],
  'connection.container': ['EventEmitter'],
  'connection.create_session': ['function'],
  'connection.input': ['function'],
  'connection._process': ['function'],
};

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
/** The patches that replace or read `target`, as the failure message names them. */
const patchesOf = (target: string): PatchEntry[] => INVENTORY.filter((p) => p.replaces.includes(target) || p.reads.includes(target));
const where = (p: PatchEntry | PatchEntry[]): string => {
  const ps = Array.isArray(p) ? p : [p];
  return `re-check ${ps.map((e) => `patch "${e.id}" (libs/amqp/src/rhea/${e.file})`).join(' and ')} against rhea's new code, then update libs/amqp/src/rhea/contract.spec.ts`;
};

function kindOf(v: unknown): Kind {
  if (v instanceof EventEmitter) return 'EventEmitter';
  if (v === null) return 'object';
  return typeof v as Kind;
}

function dig(v: unknown, path: string[]): unknown {
  for (const k of path) v = v === undefined || v === null ? undefined : (v as Record<string, unknown>)[k];
  return v;
}

/** Live rhea objects of one exchange: a served server connection and a rhea client. */
interface Live {
  connection: Record<string, unknown>;
  session: Record<string, unknown>;
  receiver: Record<string, unknown>;
  sender: Record<string, unknown>;
  message: unknown;
  /** Values read inside the message event, while rhea is mid-transfer. */
  during: Record<string, unknown>;
  linkKeys: string[];
}

let server: net.Server;
let client: { close(): void } | undefined;
let live: Live;

beforeAll(async () => {
  let resolveLive!: (l: Live) => void;
  const got = new Promise<Live>((r) => (resolveLive = r));
  const partial: Partial<Live> = {};
  server = net.createServer((socket) => {
    const container = rhea.create_container({ id: 'contract-server' });
    const conn = container.create_connection({ id: 'contract', receiver_options: { credit_window: 0, autoaccept: false } } as never) as unknown as Record<
      string,
      unknown
    > & { on(ev: string, fn: (ctx: Record<string, never>) => void): void; accept(s: unknown): void };
    serveConnection(conn);
    conn.on('receiver_open', (ctx) => {
      (ctx['receiver'] as { flow(n: number): void }).flow(10);
    });
    conn.on('sender_open', (ctx) => {
      partial.sender = ctx['sender'];
    });
    conn.on('message', (ctx) => {
      const receiver = ctx['receiver'] as Record<string, unknown>;
      const session = receiver['session'] as Record<string, unknown>;
      partial.during = { 'link._incomplete': receiver['_incomplete'], 'session.incoming.next_delivery_id': dig(session, ['incoming', 'next_delivery_id']) };
      partial.linkKeys = Object.keys(session['links'] as object);
      (ctx['delivery'] as { accept(): void }).accept();
      resolveLive({
        connection: conn,
        session,
        receiver,
        sender: partial.sender!,
        message: ctx['message'],
        during: partial.during,
        linkKeys: partial.linkKeys,
      });
    });
    conn.accept(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const c = rhea.create_container({ id: 'contract-client' }).connect({ host: '127.0.0.1', port, reconnect: false });
  client = c;
  // A receiver and a sender of the same name on one session (link-roles), then one message. rhea's
  // client session keys links by name too, so the sender is made once the receiver is attached.
  await new Promise<void>((r) => c.open_receiver({ name: 'both', source: { address: 'q' } }).once('receiver_open', () => r()));
  const s = c.open_sender({ name: 'both', target: { address: 'q' } });
  let sent = false;
  s.on('sendable', () => {
    if (!sent && s.sendable()) {
      sent = true;
      s.send({ body: 'contract' });
    }
  });
  live = await got;
}, 20_000);

afterAll(async () => {
  client?.close();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('the contract with rhea', () => {
  it(`is rhea ${RHEA_VERSION}`, () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../../node_modules/rhea/package.json', import.meta.url), 'utf8')) as { version: string };
    expect(
      internals.version,
      `rhea is ${internals.version}, the patches were written for ${RHEA_VERSION}: re-check every patch of libs/amqp/src/rhea/inventory.ts, then update RHEA_VERSION and the fingerprints`,
    ).toBe(RHEA_VERSION);
    expect(pkg.version, 'node_modules/rhea/package.json').toBe(internals.version);
  });

  it('finds every function a patch replaces or relies on unchanged (sha256 of its source)', () => {
    const incomingProto = Object.getPrototypeOf(live.session['incoming']) as Record<string, unknown>;
    const outgoingProto = Object.getPrototypeOf(live.session['outgoing']) as Record<string, unknown>;
    const seen = new Set<string>();
    for (const target of new Set(INVENTORY.flatMap((p) => [...p.replaces, ...p.reads]))) {
      const ps = patchesOf(target);
      if (!(target in FINGERPRINTS)) {
        const fnShaped = /^(Incoming|Outgoing)\.prototype\./.test(target) || (typeof pristine.get(target) === 'function' && !(target in TYPECODES));
        expect(fnShaped, `no fingerprint recorded for rhea's function ${target} (${ps.map((p) => p.id).join(', ')})`).toBe(false);
        continue;
      }
      seen.add(target);
      const [root, proto, name] = target.split('.');
      const fn =
        root === 'Incoming' && proto === 'prototype'
          ? incomingProto[name!]
          : root === 'Outgoing' && proto === 'prototype'
            ? outgoingProto[name!]
            : pristine.get(target);
      expect(typeof fn, `rhea's ${target} is gone: ${where(ps)}`).toBe('function');
      expect(sha256(String(fn)), `rhea's ${target} changed: ${where(ps)}`).toBe(FINGERPRINTS[target]);
    }
    // Every fingerprint belongs to some patch, and every function-shaped entry has one.
    expect([...seen].sort()).toEqual(Object.keys(FINGERPRINTS).sort());
  });

  it('finds the performatives and outcomes the hot codec writes by position as they were', () => {
    for (const [target, expected] of Object.entries(COMPOSITES)) {
      const p = patchesOf(target);
      const made = (pristine.get(target) as (f: object) => object)({});
      const proto = Object.getPrototypeOf(made) as { constructor: { descriptor?: { numeric?: unknown } } };
      const shape = JSON.stringify({ descriptor: String(proto.constructor.descriptor?.numeric), fields: Object.getOwnPropertyNames(proto) });
      expect(shape, `rhea's ${target} builds another composite: ${where(p)}`).toBe(expected);
    }
  });

  it("finds the type descriptors lean-types compares with, and rhea's loggers", () => {
    const lean = INVENTORY.find((p) => p.id === 'lean-types')!;
    for (const [target, code] of Object.entries(TYPECODES)) {
      expect(lean.reads, target).toContain(target);
      expect((pristine.get(target) as { typecode?: number } | undefined)?.typecode, `rhea's ${target}: ${where(lean)}`).toBe(code);
    }
    const silence = INVENTORY.find((p) => p.id === 'log-silence')!;
    const loggers = pristine.get('log.*') as Record<string, { enabled?: unknown }>;
    expect(Object.keys(loggers).sort(), `rhea's loggers (lib/log.js): ${where(silence)}`).toEqual([...LOGGERS].sort());
    for (const name of LOGGERS) {
      expect(typeof loggers[name], `rhea's log.${name}: ${where(silence)}`).toBe('function');
      // debug 4's accessor: falsy unless DEBUG names the logger.
      expect(typeof Object.getOwnPropertyDescriptor(loggers[name], 'enabled')?.get, `rhea's log.${name}.enabled: ${where(silence)}`).toBe('function');
      expect(['boolean', 'undefined'], `rhea's log.${name}.enabled: ${where(silence)}`).toContain(typeof loggers[name]!.enabled);
    }
  });

  it('finds every private field the patches read, with its type, on a served connection', () => {
    const roots: Record<string, Array<Record<string, unknown>>> = {
      link: [live.receiver, live.sender],
      sender: [live.sender],
      session: [live.session],
      connection: [live.connection],
    };
    const seen = new Set<string>();
    for (const p of INVENTORY) {
      for (const target of [...p.replaces, ...p.reads]) {
        const [root, ...path] = target.split('.');
        if (!roots[root!]) continue;
        seen.add(target);
        const kinds = FIELDS[target];
        expect(kinds, `no expected type recorded for ${target} (patch "${p.id}")`).toBeDefined();
        for (const obj of roots[root!]!) {
          const v = target in live.during ? live.during[target] : dig(obj, path);
          expect(kinds, `rhea's ${target} is ${kindOf(v)}: ${where(p)}`).toContain(kindOf(v));
        }
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(FIELDS).sort());
    // The fields hold what the patches take them for.
    expect(live.session['connection']).toBe(live.connection);
    expect(live.receiver['session']).toBe(live.session);
  });

  it('still gets the behaviour the required patches exist for', () => {
    // raw-messages: the message reached the server as the bytes received.
    expect(live.message).toBeInstanceOf(RawMessage);
    // link-roles: a sender and a receiver named alike both attached, keyed by name and role.
    expect(live.linkKeys.sort()).toEqual(['R\u0000both', 'S\u0000both']);
  });

  it('renders the inventory into docs/amqp.md as it is', () => {
    const doc = readFileSync(new URL('../../../../docs/amqp.md', import.meta.url), 'utf8');
    expect(
      doc.includes(inventoryMarkdown()),
      'docs/amqp.md lacks the current inventory table: paste inventoryMarkdown() (libs/amqp/src/rhea/inventory.ts) into its section "rhea: patches or an engine of our own"',
    ).toBe(true);
  });
});

describe('APOGEE_AMQP_RHEA_PATCHES', () => {
  it('is all optional patches unset or "on", none "off", else the ones listed; a typo throws', () => {
    expect([...parsePatchSetting(undefined)]).toEqual([...OPTIONAL_PATCHES]);
    expect([...parsePatchSetting('on')]).toEqual([...OPTIONAL_PATCHES]);
    expect(parsePatchSetting('off').size).toBe(0);
    expect([...parsePatchSetting('hot-frames, lean-incoming')]).toEqual(['hot-frames', 'lean-incoming']);
    expect(() => parsePatchSetting('hot-frame')).toThrow(/unknown patch "hot-frame"/);
    expect(() => parsePatchSetting('raw-messages')).toThrow(/unknown patch/);
  });
});
