/**
 * Topic / broker permission bits (RocketMQ PermName). A normal topic is READ | WRITE = 6.
 */
export const PermName = {
  PRIORITY: 8,
  READ: 4,
  WRITE: 2,
  INHERIT: 1,
} as const;

/** Clients subscribe only to queues whose perm has READ. */
export function isReadable(perm: number): boolean {
  return (perm & PermName.READ) === PermName.READ;
}

/** Producers only send to queues whose perm has WRITE (and only via the master, brokerId 0). */
export function isWriteable(perm: number): boolean {
  return (perm & PermName.WRITE) === PermName.WRITE;
}

export function isInherited(perm: number): boolean {
  return (perm & PermName.INHERIT) === PermName.INHERIT;
}

export function isPriority(perm: number): boolean {
  return (perm & PermName.PRIORITY) === PermName.PRIORITY;
}

/** "RWX"-style rendering used by RocketMQ admin tools: R, W, X (inherit) or '-'. */
export function permToString(perm: number): string {
  return (isReadable(perm) ? 'R' : '-') + (isWriteable(perm) ? 'W' : '-') + (isInherited(perm) ? 'X' : '-');
}
