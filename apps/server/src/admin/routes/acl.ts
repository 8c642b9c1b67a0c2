import type { AuthConfig, UserConfig } from '@apogee/broker';
import { ApiError } from '../api-error.js';
import { userEntryFrom } from '../acl-editor.js';
import { AdminAnswer, type AdminDeps, type AdminHandler, type AdminRequest } from '../context.js';

function userView(u: UserConfig) {
  return {
    username: u.username,
    admin: u.admin,
    password: u.password !== undefined,
    accessKey: u.accessKey ?? null,
    whiteRemoteAddress: u.whiteRemoteAddress ?? null,
    publish: u.publish,
    subscribe: u.subscribe,
    groups: u.groups,
  };
}

function aclView(deps: AdminDeps, a: AuthConfig) {
  const e = deps.aclEditor.editability();
  return {
    editable: e.editable,
    ...(e.editable ? {} : { readOnlyReason: e.reason }),
    allowAnonymous: a.allowAnonymous,
    anonymous: a.anonymous,
    globalWhiteRemoteAddresses: a.globalWhiteRemoteAddresses,
    users: a.users.map(userView),
  };
}

/**
 * GET /api/v1/acl: the `auth` section in force — users with their rules and whether they have a
 * password and an access key, never a password hash or a secret key — and whether it can be
 * edited here (a writable config file with an `auth` section) or why not.
 */
export const getAcl: AdminHandler = (deps) => aclView(deps, deps.authConfig());

const editorOf = (req: AdminRequest) => ({ username: req.principal?.username });

/**
 * PUT /api/v1/acl/users/:username: creates or replaces a user. The body takes a config file
 * user's settings (rules, admin, accessKey/secretKey, …) and `newPassword` in plain text (hashed
 * here); a password or secret key left out is kept from the user being replaced, null removes it.
 */
export const putAclUser: AdminHandler = async (deps, req) => {
  const username = req.params['username']!;
  const body = await req.body();
  let created = false;
  const cfg = await deps.aclEditor.edit(editorOf(req), `put user ${username}`, async (section) => {
    const users = usersOf(section);
    const i = users.findIndex((u) => u['username'] === username);
    created = i < 0;
    const entry = await userEntryFrom(username, body, created ? undefined : users[i]);
    if (created) users.push(entry);
    else users[i] = entry;
    section.users = users;
  });
  const u = cfg.users.find((x) => x.username === username)!;
  return new AdminAnswer(created ? 201 : 200, userView(u));
};

/** DELETE /api/v1/acl/users/:username: removes a user; its open connections lose every permission at once. */
export const deleteAclUser: AdminHandler = async (deps, req) => {
  const username = req.params['username']!;
  await deps.aclEditor.edit(editorOf(req), `delete user ${username}`, (section) => {
    const users = usersOf(section);
    const i = users.findIndex((u) => u['username'] === username);
    if (i < 0) throw new ApiError('NOT_FOUND', `no user ${username}`);
    users.splice(i, 1);
    section.users = users;
  });
  return { deleted: username };
};

const ANONYMOUS_KEYS = ['publish', 'subscribe', 'groups', 'admin'];

/**
 * PUT /api/v1/acl/anonymous: anonymous access — `allowAnonymous` and the anonymous rules
 * (`publish`, `subscribe`, `groups`, `admin`); each setting given replaces that one, the others stay.
 */
export const putAclAnonymous: AdminHandler = async (deps, req) => {
  const body = await req.body();
  for (const k of Object.keys(body))
    if (k !== 'allowAnonymous' && !ANONYMOUS_KEYS.includes(k))
      throw new ApiError('BAD_REQUEST', `unknown setting ${JSON.stringify(k)}; known: allowAnonymous, ${ANONYMOUS_KEYS.join(', ')}`);
  const cfg = await deps.aclEditor.edit(editorOf(req), 'put anonymous', (section) => {
    if (body['allowAnonymous'] !== undefined) section['allowAnonymous'] = body['allowAnonymous'];
    const anon = { ...((section['anonymous'] ?? {}) as Record<string, unknown>) };
    for (const k of ANONYMOUS_KEYS) if (body[k] !== undefined) anon[k] = body[k];
    section['anonymous'] = anon;
  });
  return aclView(deps, cfg);
};

function usersOf(section: { users?: unknown }): Array<Record<string, unknown>> {
  const users = section.users ?? [];
  if (!Array.isArray(users)) throw new ApiError('CONFLICT', "the config file's auth.users is not a list; fix it by hand");
  return [...(users as Array<Record<string, unknown>>)];
}
