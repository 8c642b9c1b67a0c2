import { UsageError } from '../args.js';
import { table } from '../format.js';
import type { Command } from './command.js';

interface AclView {
  editable: boolean;
  readOnlyReason?: string;
  allowAnonymous: boolean;
  users: Array<{ username: string; admin: boolean; password: boolean; accessKey: string | null; publish: unknown; subscribe: unknown; groups: unknown }>;
}

/** `acl show`: the users and rules in force (no password hash or secret key ever leaves the server). */
export const aclShowCommand: Command = {
  path: ['acl', 'show'],
  args: [],
  summary: 'show the auth section in force: users, their permissions and rules (HTTP admin API)',
  options: [],
  async run(ctx) {
    const acl = await ctx.http().call<AclView>('GET', '/acl');
    const rules = (r: unknown): string => (r && typeof r === 'object' ? JSON.stringify(r) : String(r));
    ctx.emit(acl, () => [
      `anonymous clients: ${acl.allowAnonymous ? 'allowed' : 'refused'}; ${acl.editable ? 'editable (acl set-user|delete-user, acl anonymous)' : `read-only: ${acl.readOnlyReason ?? 'edit the config file and restart'}`}`,
      ...table(
        ['USER', 'ADMIN', 'PASSWORD', 'ACCESS KEY', 'PUBLISH', 'SUBSCRIBE', 'GROUPS'],
        acl.users.map((u) => [
          u.username,
          u.admin ? 'yes' : 'no',
          u.password ? 'set' : '-',
          u.accessKey ?? '-',
          rules(u.publish),
          rules(u.subscribe),
          rules(u.groups),
        ]),
      ),
    ]);
  },
};

interface AclUserRow {
  username: string;
  admin: boolean;
  whiteRemoteAddress: string | null;
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[]; deny: string[] };
  groups: { allow: string[]; deny: string[] };
}

const yesNo = (v: string | undefined, name: string, path: readonly string[]): boolean | undefined => {
  if (v === undefined) return undefined;
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  throw new UsageError(`--${name} takes yes or no, not ${JSON.stringify(v)}`, path);
};

const RULE_OPTIONS = ['publish', 'subscribe', 'groups'] as const;

/**
 * `acl set-user USER`: creates a user or changes one (PUT /api/v1/acl/users/USER). Settings not
 * given keep their current values (read first), so changing a password does not reset the rules;
 * a new user gets the defaults (everything allowed, not admin). The new password comes from
 * APOGEE_NEW_PASSWORD (kept out of the process list) or --new-password.
 */
export const aclUserSetCommand: Command = {
  path: ['acl', 'set-user'],
  args: ['USER'],
  summary: 'create a user or change its password, admin permission or rules (HTTP admin API; the config file must be writable)',
  options: [
    { name: 'new-password', kind: 'string', value: 'PW', help: 'its password (env APOGEE_NEW_PASSWORD keeps it out of the process list)' },
    { name: 'admin', kind: 'string', value: 'yes|no', help: 'whether it may administer (admin API, admin request codes)' },
    ...RULE_OPTIONS.flatMap((r) => [
      { name: r, kind: 'list' as const, value: 'PATTERN', help: `${r} allow pattern (repeat for several; replaces the current list)` },
      { name: `${r}-deny`, kind: 'list' as const, value: 'PATTERN', help: `${r} deny pattern (repeat; replaces the current list)` },
    ]),
  ],
  notes: ['Access keys (RocketMQ ACL) are set with the admin API or the config file.'],
  async run(ctx, args) {
    const username = args.positionals[0]!;
    const admin = yesNo(args.str('admin'), 'admin', this.path);
    const current = (await ctx.http().call<{ users: AclUserRow[] }>('GET', '/acl')).users.find((u) => u.username === username);
    const newPassword = args.str('new-password') ?? process.env['APOGEE_NEW_PASSWORD'];
    if (!current && newPassword === undefined)
      throw new UsageError(`user ${username} is new: give it a password (APOGEE_NEW_PASSWORD or --new-password)`, this.path);
    const body: Record<string, unknown> = { admin: admin ?? current?.admin ?? false };
    if (current?.whiteRemoteAddress) body['whiteRemoteAddress'] = current.whiteRemoteAddress;
    for (const r of RULE_OPTIONS) {
      const allow = args.list(r);
      const deny = args.list(`${r}-deny`);
      body[r] = { allow: allow.length > 0 ? allow : (current?.[r].allow ?? ['#']), deny: deny.length > 0 ? deny : (current?.[r].deny ?? []) };
    }
    if (newPassword !== undefined) body['newPassword'] = newPassword;
    const answer = await ctx.http().call<AclUserRow>('PUT', `/acl/users/${encodeURIComponent(username)}`, body);
    ctx.emit(answer, () => `${current ? 'updated' : 'created'} user ${answer.username}${answer.admin ? ' (admin)' : ''}`);
  },
};

/** `acl delete-user USER`: removes a user (DELETE /api/v1/acl/users/USER); its connections lose every permission. */
export const aclUserDeleteCommand: Command = {
  path: ['acl', 'delete-user'],
  args: ['USER'],
  summary: 'delete a user; its open connections lose every permission at once (HTTP admin API)',
  options: [],
  async run(ctx, args) {
    const answer = await ctx.http().call<{ deleted: string }>('DELETE', `/acl/users/${encodeURIComponent(args.positionals[0]!)}`);
    ctx.emit(answer, () => `deleted user ${answer.deleted}`);
  },
};

/** `acl anonymous --allow yes|no`: anonymous access on every port (PUT /api/v1/acl/anonymous). */
export const aclAnonymousCommand: Command = {
  path: ['acl', 'anonymous'],
  args: [],
  summary: 'accept or refuse clients without credentials on every port (HTTP admin API)',
  options: [
    { name: 'allow', kind: 'string', value: 'yes|no', help: 'accept (yes) or refuse (no) anonymous clients' },
    { name: 'admin', kind: 'string', value: 'yes|no', help: 'whether anonymous clients may administer' },
  ],
  async run(ctx, args) {
    const allow = yesNo(args.str('allow'), 'allow', this.path);
    const admin = yesNo(args.str('admin'), 'admin', this.path);
    if (allow === undefined && admin === undefined) throw new UsageError('give --allow yes|no and/or --admin yes|no', this.path);
    const answer = await ctx.http().call<{ allowAnonymous: boolean; anonymous: { admin: boolean } }>('PUT', '/acl/anonymous', {
      ...(allow === undefined ? {} : { allowAnonymous: allow }),
      ...(admin === undefined ? {} : { admin }),
    });
    ctx.emit(answer, () => `anonymous clients: ${answer.allowAnonymous ? 'accepted' : 'refused'}${answer.anonymous.admin ? ', admins' : ''}`);
  },
};
