import type { AdminHandler } from '../context.js';

/**
 * GET /api/v1/acl: the `auth` section as it is in force — users with their rules and whether they
 * have a password and an access key, never a password hash or a secret key. Read-only: the rules
 * come from the config file (edit it and restart).
 */
export const getAcl: AdminHandler = (deps) => {
  const a = deps.authConfig;
  return {
    editable: false,
    allowAnonymous: a.allowAnonymous,
    anonymous: a.anonymous,
    globalWhiteRemoteAddresses: a.globalWhiteRemoteAddresses,
    users: a.users.map((u) => ({
      username: u.username,
      admin: u.admin,
      password: u.password !== undefined,
      accessKey: u.accessKey ?? null,
      whiteRemoteAddress: u.whiteRemoteAddress ?? null,
      publish: u.publish,
      subscribe: u.subscribe,
      groups: u.groups,
    })),
  };
};
