/*
 * APOGEE_AMQP_RHEA_PATCHES=off: none of the optional rhea patches is installed (rhea's own
 * functions stay in place) and the gateway still serves messages both ways. The variable is read
 * when rhea/index.ts loads, so it is set before the modules are imported (each spec file gets its
 * own module graph).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

process.env['APOGEE_AMQP_RHEA_PATCHES'] = 'off';
const { AmqpHarness, eventually, openReceiver, openSender, sendAndWait, text } = await import('./harness.js');
const { internals, pristine, processPatches } = await import('../src/rhea/index.js');

let h: Awaited<ReturnType<typeof AmqpHarness.start>>;
beforeAll(async () => {
  h = await AmqpHarness.start();
});
afterAll(async () => {
  await h.close();
  delete process.env['APOGEE_AMQP_RHEA_PATCHES'];
});

describe('rhea patches off', () => {
  it("serves at-least-once sends and deliveries, and leaves rhea's own functions in place", async () => {
    expect(processPatches.size).toBe(0);
    const c = await h.connect();
    const s = await openSender(c, 'q-off');
    for (let i = 0; i < 3; i++) expect(await sendAndWait(s, { body: `m${i}` })).toEqual({ outcome: 'accepted' });
    expect(h.store.getMaxOffset('q-off', 0)).toBe(3);
    const r = await openReceiver(c, 'q-off', {}, 10);
    await eventually(() => r.got.length === 3, 'three messages');
    expect(r.got.map((g) => text(g.message))).toEqual(['m0', 'm1', 'm2']);
    for (const g of r.got) g.delivery.accept();

    // After a served connection has read and written transfers, dispositions and flows:
    const same = (target: string, now: unknown) => expect(now, target).toBe(pristine.get(target));
    for (const f of ['read_frame', 'write_frame', 'transfer', 'disposition', 'flow']) same(`frames.${f}`, internals.frames[f]);
    for (const f of ['is_ulong', 'is_string', 'is_symbol', 'is_list', 'is_map']) same(`types.${f}`, internals.types[f]);
    same('Link.prototype.dispatch', internals.Link.prototype['dispatch']);
    same('Session.prototype.dispatch', internals.Session.prototype['dispatch']);
    same('Connection.prototype.dispatch', internals.Connection.prototype['dispatch']);
    same('Session.prototype.on_transfer', internals.Session.prototype.on_transfer);
    const loggers = pristine.get('log.*') as Record<string, unknown>;
    for (const name of Object.keys(loggers)) expect(internals.log[name], `log.${name}`).toBe(loggers[name]);
    // raw-messages is not optional: the gateway stores the bytes received.
    expect(internals.message.decode).not.toBe(pristine.get('message.decode'));
  });
});
