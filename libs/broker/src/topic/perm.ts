/** RocketMQ PermName bits. */
export const Perm = { PRIORITY: 8, READ: 4, WRITE: 2, INHERIT: 1 } as const;

export const isReadable = (perm: number): boolean => (perm & Perm.READ) !== 0;
export const isWriteable = (perm: number): boolean => (perm & Perm.WRITE) !== 0;
export const isInheritable = (perm: number): boolean => (perm & Perm.INHERIT) !== 0;
