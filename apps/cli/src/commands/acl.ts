import { table } from '../format.js';
import type { Command } from './command.js';

interface AclView {
  editable: boolean;
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
      `anonymous clients: ${acl.allowAnonymous ? 'allowed' : 'refused'}; rules ${acl.editable ? 'editable' : 'from the config file (edit it and restart)'}`,
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
