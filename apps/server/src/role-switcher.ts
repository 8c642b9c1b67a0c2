import { formatError } from '@apogee/message';
import type { RoleStack, StackRole } from './role-stack.js';

interface SwitchLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Same role, same epoch, same master to follow: nothing to do. */
function sameRole(a: StackRole, b: StackRole): boolean {
  if (a.kind !== b.kind || a.epoch !== b.epoch) return false;
  return a.kind === 'master' || (b.kind === 'replica' && a.haMaster === b.haMaster);
}

/**
 * Runs one role stack at a time and moves to the role the controller asks for: the running stack
 * is closed (its endpoints and engine) before the next opens on the same store, so a deposed
 * master stops serving before it follows the new master (which truncates its divergent tail).
 * Requests that arrive while a switch runs are coalesced: only the latest is applied next. A
 * stack that fails to open is retried after `retryMs`.
 */
export class RoleSwitcher {
  private current: { role: StackRole; stack: RoleStack } | null = null;
  private wanted: StackRole | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly open: (role: StackRole) => Promise<RoleStack>,
    private readonly log: SwitchLogger,
    private readonly retryMs = 1000,
  ) {}

  /** The role being served now (null while none is open). */
  get role(): StackRole | null {
    return this.current?.role ?? null;
  }

  /** Asks for `role`; resolves once it (or a later request) is in place or failed to open. */
  want(role: StackRole): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.wanted = role;
    this.running ??= this.drain().finally(() => (this.running = null));
    return this.running;
  }

  /** Closes the running stack; later requests are ignored. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.running;
    const c = this.current;
    this.current = null;
    if (c) await c.stack.close();
  }

  private async drain(): Promise<void> {
    while (this.wanted !== null && !this.stopped) {
      const next = this.wanted;
      this.wanted = null;
      if (this.current && sameRole(this.current.role, next)) continue;
      const from = this.current?.role ?? null;
      if (this.current) {
        const c = this.current;
        this.current = null;
        await c.stack.close();
      }
      if (this.stopped) return;
      try {
        this.current = { role: next, stack: await this.open(next) };
        this.log.info({ from, to: next }, 'apogee: role changed');
      } catch (err) {
        this.log.error({ role: next, err: formatError(err) }, 'apogee: cannot open the role; retrying');
        if (this.wanted === null) {
          this.retry = setTimeout(() => {
            this.retry = null;
            if (this.current === null && this.wanted === null) void this.want(next);
          }, this.retryMs);
          this.retry.unref();
        }
      }
    }
  }
}
