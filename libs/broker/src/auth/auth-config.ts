import { isPasswordHash } from './password-hash.js';

/** Allow/deny topic patterns for one direction (publish or subscribe). */
export interface AclRules {
  allow: string[];
  deny: string[];
}

export interface UserConfig {
  username: string;
  /** scrypt hash from `npm run cli -- hash-password`. */
  password: string;
  publish: AclRules;
  subscribe: AclRules;
}

/** The config file's `auth` section (shared by the MQTT and AMQP endpoints). */
export interface AuthConfig {
  /** Accept clients without credentials (with the `anonymous` rules). Default true. */
  allowAnonymous: boolean;
  anonymous: { publish: AclRules; subscribe: AclRules };
  users: UserConfig[];
}

const ALL: AclRules = { allow: ['#'], deny: [] };

export const OPEN_AUTH: AuthConfig = { allowAnonymous: true, anonymous: { publish: ALL, subscribe: ALL }, users: [] };

function rules(v: unknown, where: string): AclRules {
  if (v === undefined) return { allow: ['#'], deny: [] };
  if (typeof v !== 'object' || v === null) throw new Error(`${where} must be an object with "allow" and/or "deny" lists`);
  const o = v as Record<string, unknown>;
  const list = (x: unknown, name: string, dflt: string[]): string[] => {
    if (x === undefined) return dflt;
    if (!Array.isArray(x) || !x.every((e) => typeof e === 'string' && e.length > 0)) throw new Error(`${where}.${name} must be a list of topic patterns`);
    return x as string[];
  };
  return { allow: list(o['allow'], 'allow', ['#']), deny: list(o['deny'], 'deny', []) };
}

/** Validates the `auth` section; errors name the offending path. */
export function parseAuthConfig(section: unknown, source: string): AuthConfig {
  if (section === undefined) return OPEN_AUTH;
  if (typeof section !== 'object' || section === null || Array.isArray(section)) throw new Error(`${source}: "auth" must be an object`);
  const s = section as Record<string, unknown>;
  for (const k of Object.keys(s))
    if (!['allowAnonymous', 'anonymous', 'users'].includes(k)) throw new Error(`${source}: unknown auth setting ${JSON.stringify(k)}`);
  const allowAnonymous = s['allowAnonymous'] ?? true;
  if (typeof allowAnonymous !== 'boolean') throw new Error(`${source}: auth.allowAnonymous must be true or false`);
  const anon = (s['anonymous'] ?? {}) as Record<string, unknown>;
  const users: UserConfig[] = [];
  const seen = new Set<string>();
  for (const [i, u] of ((s['users'] ?? []) as unknown[]).entries()) {
    const where = `${source}: auth.users[${i}]`;
    if (typeof u !== 'object' || u === null) throw new Error(`${where} must be an object`);
    const o = u as Record<string, unknown>;
    if (typeof o['username'] !== 'string' || o['username'].length === 0) throw new Error(`${where}.username must be a non-empty string`);
    if (seen.has(o['username'])) throw new Error(`${where}: user ${JSON.stringify(o['username'])} is listed twice`);
    seen.add(o['username']);
    if (typeof o['password'] !== 'string' || !isPasswordHash(o['password']))
      throw new Error(`${where}.password must be a scrypt hash (make one with: npm run cli -- hash-password); plain-text passwords are not accepted`);
    users.push({
      username: o['username'],
      password: o['password'],
      publish: rules(o['publish'], `${where}.publish`),
      subscribe: rules(o['subscribe'], `${where}.subscribe`),
    });
  }
  return {
    allowAnonymous,
    anonymous: {
      publish: rules(anon['publish'], `${source}: auth.anonymous.publish`),
      subscribe: rules(anon['subscribe'], `${source}: auth.anonymous.subscribe`),
    },
    users,
  };
}
