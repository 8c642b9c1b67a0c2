import { describe, expect, it } from 'vitest';
import type { RoleStack, StackRole } from './role-stack.js';
import { RoleSwitcher } from './role-switcher.js';

const quiet = { info: () => {}, error: () => {} };

/** Stacks that record their opening and closing; `failNext` makes the next open throw. */
function recorder() {
  const events: string[] = [];
  let failNext = false;
  let gate: Promise<void> = Promise.resolve();
  const name = (r: StackRole) => (r.kind === 'master' ? `master@${r.epoch}` : `replica(${r.haMaster ?? '-'})@${r.epoch}`);
  const open = async (role: StackRole): Promise<RoleStack> => {
    await gate;
    if (failNext) {
      failNext = false;
      events.push(`fail ${name(role)}`);
      throw new Error('port taken');
    }
    events.push(`open ${name(role)}`);
    return {
      broker: null as unknown as RoleStack['broker'],
      close: async () => {
        events.push(`close ${name(role)}`);
      },
    };
  };
  return {
    events,
    open,
    fail: () => (failNext = true),
    hold: () => {
      let release = () => {};
      gate = new Promise((r) => (release = r));
      return () => release();
    },
  };
}

describe('RoleSwitcher', () => {
  it('closes the running stack before opening the next, and does nothing for the same role', async () => {
    const r = recorder();
    const s = new RoleSwitcher(r.open, quiet);
    await s.want({ kind: 'replica', haMaster: null, epoch: 0 });
    await s.want({ kind: 'replica', haMaster: null, epoch: 0 });
    await s.want({ kind: 'master', epoch: 1 });
    await s.want({ kind: 'replica', haMaster: 'h:1', epoch: 2 });
    await s.stop();
    expect(r.events).toEqual(['open replica(-)@0', 'close replica(-)@0', 'open master@1', 'close master@1', 'open replica(h:1)@2', 'close replica(h:1)@2']);
  });

  it('applies only the latest of the requests that came during a switch', async () => {
    const r = recorder();
    const s = new RoleSwitcher(r.open, quiet);
    const release = r.hold();
    const first = s.want({ kind: 'replica', haMaster: null, epoch: 0 });
    void s.want({ kind: 'master', epoch: 1 });
    void s.want({ kind: 'replica', haMaster: 'h:2', epoch: 2 });
    release();
    await first;
    expect(s.role).toEqual({ kind: 'replica', haMaster: 'h:2', epoch: 2 });
    expect(r.events).toEqual(['open replica(-)@0', 'close replica(-)@0', 'open replica(h:2)@2']);
    await s.stop();
  });

  it('retries a stack that failed to open, and opens nothing after stop', async () => {
    const r = recorder();
    const s = new RoleSwitcher(r.open, quiet, 20);
    r.fail();
    await s.want({ kind: 'master', epoch: 1 });
    expect(s.role).toBeNull();
    for (let i = 0; i < 100 && s.role === null; i++) await new Promise((res) => setTimeout(res, 10));
    expect(r.events).toEqual(['fail master@1', 'open master@1']);
    await s.stop();
    await s.want({ kind: 'master', epoch: 2 });
    expect(r.events).toEqual(['fail master@1', 'open master@1', 'close master@1']);
  });
});
